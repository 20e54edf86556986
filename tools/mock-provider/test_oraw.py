"""Round-trip tests for oraw.py (python3 -m unittest tools/mock-provider/test_oraw.py)."""
import io
import os
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oraw  # noqa: E402

T = oraw.Timestamp(1_700_000_000_123_456_789, 42_000_000_001)


def sample_records():
    return [
        oraw.ProcessExec(T, 1234, 1, 0, 0, "python3", "/usr/bin/python3.11", ["python3", "x.py", "ünïcode"], "/tmp", "/user.slice"),
        oraw.ProcessExec(T, 1235, 1, 1000, 1000, "curl", "/usr/bin/curl", [], None, None),
        oraw.ConnOpen(1, T, 1234, 1236, oraw.ROLE_CLIENT, oraw.SOURCE_MOCK_RECORDER, ("127.0.0.1", 50000),
                      ("127.0.0.1", 443), "localhost", "h2"),
        oraw.ConnOpen(2, T, 1234, 1234, oraw.ROLE_UNKNOWN, 255, ("::1", 1), ("2001:db8::5", 65535), None, None),
        oraw.ConnOpen(3, T, 0, 0, oraw.ROLE_SERVER, 5, None, None, None, None),
        oraw.Data(1, oraw.EGRESS, 0, T, 1234, 1236, 7, 0, b"POST / HTTP/1.1\r\n\r\n"),
        oraw.Data(1, oraw.INGRESS, 0, T, 1234, 1236, 7, 10, bytes(range(256))),
        oraw.Data(1, oraw.EGRESS, 19, T, 1234, 1236, 7, 0, b""),
        oraw.ConnClose(1, T, 1234),
        oraw.ProcessExit(T, 1234, -1, 9),
        oraw.ProcessExit(T, 1235, 0, None),
        oraw.ProcessFork(T, 1, 1234),
        oraw.FileOp(T, 1234, 1234, 4, "/a", "/b", 0o100, 12, -2),
        oraw.FileOp(T, 1234, 1234, 0, "/c", None, None, None, None),
        oraw.NetConnect(T, 1234, 1234, 5, 0, ("10.0.0.1", 1234), ("1.2.3.4", 443), -111),
        oraw.NetConnect(T, 1234, 1234, None, 1, None, ("::1", 53), None),
        oraw.Lost(T, "tls_ring", 7),
    ]


class RoundTrip(unittest.TestCase):
    def test_round_trip(self):
        buf = io.BytesIO()
        w = oraw.Writer(buf, {"note": "test"})
        for r in sample_records():
            w.write(r)
        buf.seek(0)
        r = oraw.Reader(buf)
        self.assertEqual(r.meta, {"note": "test"})
        self.assertEqual(list(r), sample_records())
        self.assertFalse(r.truncated)
        self.assertEqual(r.unknown, 0)

    def test_header_layout(self):
        buf = io.BytesIO()
        oraw.Writer(buf, {})
        b = buf.getvalue()
        self.assertEqual(b[:8], b"OISPRAW\0")
        self.assertEqual(struct.unpack("<HHI", b[8:16]), (1, 0, 2))
        self.assertEqual(b[16:], b"{}")

    def test_data_encoding_is_exact(self):
        tag, body = oraw.encode_record(oraw.Data(9, 1, 5, oraw.Timestamp(1, 2), 3, 4, 7, 0, b"hi"))
        self.assertEqual(tag, 1)
        self.assertEqual(body, struct.pack("<QBQQQIIBII", 9, 1, 5, 1, 2, 3, 4, 7, 0, 2) + b"hi")

    def test_addr_encoding(self):
        _, body = oraw.encode_record(oraw.ConnClose(1, T, 2))
        self.assertEqual(len(body), 8 + 16 + 4)
        _, body = oraw.encode_record(oraw.ConnOpen(1, oraw.Timestamp(0, 0), 0, 0, 0, 7, ("127.0.0.1", 443), None, None, "h2"))
        tail = body[8 + 16 + 8 + 2:]
        self.assertEqual(tail, bytes([4, 127, 0, 0, 1]) + struct.pack("<H", 443) + b"\x00" + b"\x00" + b"\x01" +
                         struct.pack("<I", 2) + b"h2")

    def test_unknown_tag_skipped_and_extra_fields_ignored(self):
        buf = io.BytesIO()
        w = oraw.Writer(buf, {})
        buf.write(struct.pack("<BI", 200, 3) + b"abc")
        tag, body = oraw.encode_record(oraw.ConnClose(5, T, 6))
        buf.write(struct.pack("<BI", tag, len(body) + 4) + body + b"more")
        w.write(oraw.Lost(T, "x", 1))
        buf.seek(0)
        r = oraw.Reader(buf)
        recs = list(r)
        self.assertEqual(recs, [oraw.ConnClose(5, T, 6), oraw.Lost(T, "x", 1)])
        self.assertEqual(r.unknown, 1)

    def test_truncated(self):
        buf = io.BytesIO()
        w = oraw.Writer(buf, {})
        for rec in sample_records()[:3]:
            w.write(rec)
        data = buf.getvalue()[:-5]
        r = oraw.Reader(io.BytesIO(data))
        self.assertEqual(len(list(r)), 2)
        self.assertTrue(r.truncated)

    def test_contiguity_check(self):
        recs = [oraw.ConnOpen(1, T, 1, 1, 0, 7, None, None, None, None),
                oraw.Data(1, 0, 0, T, 1, 1, 7, 0, b"abc"),
                oraw.Data(1, 0, 4, T, 1, 1, 7, 0, b"d"),
                oraw.ConnClose(1, T, 1)]
        self.assertEqual(len(oraw.check_contiguity(recs)), 1)
        recs[2] = oraw.Data(1, 0, 3, T, 1, 1, 7, 0, b"d")
        self.assertEqual(oraw.check_contiguity(recs), [])

    def test_cli_dump_and_check(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.oraw")
            with oraw.Writer(p, {"a": 1}) as w:
                w.write(oraw.ConnOpen(1, T, 1, 1, 0, 7, ("127.0.0.1", 1), ("127.0.0.1", 2), "localhost", "http/1.1"))
                w.write(oraw.Data(1, 0, 0, T, 1, 1, 7, 0, b"GET / HTTP/1.1\r\n\r\n"))
                w.write(oraw.ConnClose(1, T, 1))
            here = os.path.dirname(os.path.abspath(__file__))
            out = subprocess.run([sys.executable, os.path.join(here, "oraw.py"), "dump", p],
                                 capture_output=True, text=True, check=True).stdout
            self.assertIn("GET / HTTP/1.1\\r\\n", out)
            self.assertIn("sni=localhost alpn=http/1.1", out)
            chk = subprocess.run([sys.executable, os.path.join(here, "oraw.py"), "check", p], capture_output=True, text=True)
            self.assertEqual(chk.returncode, 0, chk.stdout)


if __name__ == "__main__":
    unittest.main()
