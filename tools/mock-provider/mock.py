#!/usr/bin/env python3
"""Local HTTPS (HTTP/2 + HTTP/1.1) and plain-HTTP mock of the AI provider APIs, with a recorder.

    python3 mock.py [--port 8443|0] [--plain-port 11434|0] [--ca-dir DIR] [--port-file F]
                    [--record OUT.oraw] [--stream-delay-ms 8] [--quiet]

Serves on 127.0.0.1 and ::1 (same port). The CA (ca.pem) and server certificate are generated
into --ca-dir on first use with the openssl CLI and reused afterwards. With --record, every
connection's plaintext is written as raw records (docs/raw-format.md) in the client's view.
Exits cleanly (closing connections and the recording) on SIGTERM or SIGINT.
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import h2.config  # noqa: E402
    import h2.connection
    import h2.events
    import h2.exceptions
    import h2.settings
except ImportError:  # re-run under the project venv if the caller's python lacks h2
    venv_py = os.path.join(HERE, ".venv", "bin", "python3")
    if os.path.exists(venv_py) and os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(HERE, ".venv")):
        os.execv(venv_py, [venv_py, os.path.abspath(__file__)] + sys.argv[1:])
    sys.stderr.write("mock.py needs the 'h2' package: run tools/mock-provider/setup-venv.sh "
                     "(or pip install -r tools/mock-provider/requirements.txt)\n")
    sys.exit(2)

import argparse
import asyncio
import errno
import gzip
import http
import ipaddress
import json
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, HERE)
import oraw  # noqa: E402
import providers  # noqa: E402
import ws_server  # noqa: E402

SERVER_NAMES = [
    "localhost", "api.openai.com", "api.anthropic.com", "generativelanguage.googleapis.com",
    "mock.openai.azure.com", "*.openai.azure.com", "api.groq.com", "api.mistral.ai", "api.deepseek.com",
    "api.together.xyz", "openrouter.ai", "ollama.local", "mock-provider.local",
]
SERVER_IPS = ["127.0.0.1", "::1"]


def log(msg: str) -> None:
    if not QUIET:
        sys.stderr.write(f"[mock] {msg}\n")
        sys.stderr.flush()


QUIET = False

# --------------------------------------------------------------------------------------------
# Certificates


def ensure_certs(ca_dir: str) -> Tuple[str, str, str]:
    """Creates (once) a CA and a server certificate signed by it. Returns (ca, cert, key) paths."""
    os.makedirs(ca_dir, exist_ok=True)
    ca, ca_key = os.path.join(ca_dir, "ca.pem"), os.path.join(ca_dir, "ca-key.pem")
    cert, key = os.path.join(ca_dir, "server.pem"), os.path.join(ca_dir, "server-key.pem")
    if all(os.path.exists(p) for p in (ca, ca_key, cert, key)):
        return ca, cert, key
    with tempfile.TemporaryDirectory() as td:
        def run(*args: str) -> None:
            subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        tca, tca_key = os.path.join(td, "ca.pem"), os.path.join(td, "ca-key.pem")
        tcert, tkey, csr = os.path.join(td, "server.pem"), os.path.join(td, "server-key.pem"), os.path.join(td, "s.csr")
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", tca_key, "-out", tca, "-days", "3650", "-subj", "/O=oisp-sensor/CN=OISP Mock Provider CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-addext", "subjectKeyIdentifier=hash")
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", tkey, "-out", csr, "-subj", "/O=oisp-sensor/CN=localhost")
        ext = os.path.join(td, "ext.cnf")
        san = ",".join([f"DNS:{n}" for n in SERVER_NAMES] + [f"IP:{i}" for i in SERVER_IPS])
        with open(ext, "w") as f:
            f.write(f"subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                    "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
        run("x509", "-req", "-in", csr, "-CA", tca, "-CAkey", tca_key, "-CAcreateserial", "-out", tcert,
            "-days", "825", "-extfile", ext)
        for src, dst in ((tca, ca), (tca_key, ca_key), (tcert, cert), (tkey, key)):
            with open(src, "rb") as fi, open(dst + ".tmp", "wb") as fo:
                fo.write(fi.read())
            os.replace(dst + ".tmp", dst)
    return ca, cert, key


def make_ssl_context(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    ctx.options |= ssl.OP_NO_COMPRESSION

    def on_sni(sslobj, name, _ctx):  # remember the client's SNI on the SSLObject
        try:
            sslobj.oisp_sni = name
        except AttributeError:
            pass
        return None

    ctx.sni_callback = on_sni
    return ctx


# --------------------------------------------------------------------------------------------
# Client process discovery (/proc)


def _parse_proc_addr(h: str) -> Tuple[ipaddress._BaseAddress, int]:
    ip_hex, port_hex = h.split(":")
    raw = bytes.fromhex(ip_hex)
    if len(raw) == 4:
        ip = ipaddress.IPv4Address(raw[::-1])
    else:
        ip = ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
    return ip, int(port_hex, 16)


def _norm_ip(s: str) -> ipaddress._BaseAddress:
    ip = ipaddress.ip_address(s.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def socket_inode(local: Tuple[str, int], remote: Tuple[str, int]) -> Optional[str]:
    """Inode of the TCP socket whose local end is `local` and remote end `remote`."""
    lip, rip = _norm_ip(local[0]), _norm_ip(remote[0])
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) < 10:
                continue
            try:
                la, lp = _parse_proc_addr(parts[1])
                ra, rp = _parse_proc_addr(parts[2])
            except ValueError:
                continue
            if lp == local[1] and rp == remote[1] and la == lip and ra == rip and parts[9] != "0":
                return parts[9]
    return None


class PidFinder:
    def __init__(self) -> None:
        self.recent: List[int] = []

    def _owns(self, pid: int, target: str) -> bool:
        d = f"/proc/{pid}/fd"
        try:
            for fd in os.listdir(d):
                try:
                    if os.readlink(f"{d}/{fd}") == target:
                        return True
                except OSError:
                    continue
        except OSError:
            return False
        return False

    def find(self, client: Tuple[str, int], server: Tuple[str, int]) -> int:
        inode = socket_inode(client, server)
        if not inode:
            return 0
        target = f"socket:[{inode}]"
        me = os.getpid()
        for pid in list(self.recent):
            if self._owns(pid, target):
                return pid
        try:
            pids = sorted((int(p) for p in os.listdir("/proc") if p.isdigit()), reverse=True)
        except OSError:
            return 0
        for pid in pids:
            if pid != me and self._owns(pid, target):
                self.recent = ([pid] + [p for p in self.recent if p != pid])[:16]
                return pid
        return 0


def now_ts() -> oraw.Timestamp:
    return oraw.Timestamp(time.time_ns(), time.monotonic_ns())


def process_exec_record(pid: int) -> Optional[oraw.ProcessExec]:
    base = f"/proc/{pid}"
    try:
        with open(f"{base}/stat") as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2:].split()
        start_ticks = int(fields[19])
        with open(f"{base}/comm") as f:
            comm = f.read().rstrip("\n")
        with open(f"{base}/cmdline", "rb") as f:
            args = [a.decode("utf-8", "replace") for a in f.read().split(b"\0")]
        if args and args[-1] == "":
            args.pop()
        status: Dict[str, str] = {}
        with open(f"{base}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                status[k] = v.strip()
        ppid = int(status.get("PPid", "0"))
        uid = int(status.get("Uid", "0").split()[0])
        gid = int(status.get("Gid", "0").split()[0])
    except (OSError, ValueError, IndexError):
        return None

    def link(p: str) -> Optional[str]:
        try:
            return os.readlink(p)
        except OSError:
            return None

    exe = link(f"{base}/exe") or ""
    cwd = link(f"{base}/cwd")
    cgroup = None
    try:
        with open(f"{base}/cgroup") as f:
            lines = f.read().splitlines()
        v2 = [ln for ln in lines if ln.startswith("0::")]
        cgroup = v2[0][3:] if v2 else (lines[0].split(":", 2)[2] if lines else None)
    except (OSError, IndexError):
        pass
    # The exec time, from the process start time (clock ticks since boot).
    start_ns = start_ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    age = max(0, time.clock_gettime_ns(time.CLOCK_BOOTTIME) - start_ns)
    ts = oraw.Timestamp(max(0, time.time_ns() - age), max(0, time.monotonic_ns() - age))
    return oraw.ProcessExec(ts, pid, ppid, uid, gid, comm, exe, args, cwd, cgroup)


# --------------------------------------------------------------------------------------------
# Recorder


class Recorder:
    def __init__(self, path: str, meta: dict) -> None:
        self.w = oraw.Writer(path, meta)
        self.seen_pids: set = set()
        self.next_conn = 1

    def open(self, pid: int, local: Optional[Tuple[str, int]], remote: Optional[Tuple[str, int]],
             sni: Optional[str], alpn: Optional[str]) -> int:
        if pid and pid not in self.seen_pids:
            self.seen_pids.add(pid)
            rec = process_exec_record(pid)
            if rec:
                self.w.write(rec)
        cid = self.next_conn
        self.next_conn += 1
        self.w.write(oraw.ConnOpen(cid, now_ts(), pid, pid, oraw.ROLE_CLIENT, oraw.SOURCE_MOCK_RECORDER,
                                   local, remote, sni, alpn))
        return cid

    def data(self, cid: int, direction: int, seq: int, pid: int, data: bytes, ts: oraw.Timestamp) -> None:
        self.w.write(oraw.Data(cid, direction, seq, ts, pid, pid, oraw.SOURCE_MOCK_RECORDER, 0, bytes(data)))

    def close_conn(self, cid: int, pid: int) -> None:
        self.w.write(oraw.ConnClose(cid, now_ts(), pid))

    def close(self) -> None:
        self.w.close()


# --------------------------------------------------------------------------------------------
# Connections

REASONS = {529: "Site Overloaded"}


def reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return REASONS.get(status, "Unknown")


def finalize(resp: providers.Response, req: providers.Request) -> providers.Response:
    """Applies gzip when the client accepts it and the body is worth compressing."""
    if resp.stream is None and resp.compressible and len(resp.body) >= 256:
        ae = (req.header("accept-encoding") or "").lower()
        if any(tok.strip().split(";")[0] == "gzip" for tok in ae.split(",")):
            resp.body = gzip.compress(resp.body, compresslevel=6, mtime=0)
            resp.headers = resp.headers + [("content-encoding", "gzip"), ("vary", "Accept-Encoding")]
    return resp


class Server:
    def __init__(self, state: providers.State, recorder: Optional[Recorder]) -> None:
        self.state = state
        self.recorder = recorder
        self.pids = PidFinder()
        self.conns: set = set()


class Conn(asyncio.Protocol):
    def __init__(self, server: Server, scheme: str) -> None:
        self.server = server
        self.scheme = scheme
        self.transport: Optional[asyncio.Transport] = None
        self.cid = 0
        self.pid = 0
        self.seq = [0, 0]  # client view: [egress (server read), ingress (server wrote)]
        self.closed = False
        self.impl = None
        self.tasks: set = set()

    # -- plumbing
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.transport = transport
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        client = (peer[0], peer[1]) if peer else None
        server = (sock[0], sock[1]) if sock else None
        sslobj = transport.get_extra_info("ssl_object")
        alpn = sslobj.selected_alpn_protocol() if sslobj else None
        sni = getattr(sslobj, "oisp_sni", None) if sslobj else None
        self.pid = self.server.pids.find(client, server) if client and server else 0
        self.peer_desc = f"{client[0]}:{client[1]}" if client else "?"
        self.server.conns.add(self)
        if self.server.recorder:
            self.cid = self.server.recorder.open(self.pid, client, server, sni, alpn)
        log(f"conn {self.cid} from {self.peer_desc} pid={self.pid} {self.scheme} sni={sni} alpn={alpn}")
        if alpn == "h2":
            self.impl = H2Handler(self)
        else:
            self.impl = H1Handler(self)

    def data_received(self, data: bytes) -> None:
        ts = now_ts()
        if self.server.recorder and not self.closed:
            self.server.recorder.data(self.cid, oraw.EGRESS, self.seq[0], self.pid, data, ts)
        self.seq[0] += len(data)
        self.impl.feed(data)

    def eof_received(self) -> Optional[bool]:
        self.impl.eof()
        return False

    def write(self, data: bytes) -> None:
        if not data or self.closed or self.transport is None or self.transport.is_closing():
            return
        ts = now_ts()
        if self.server.recorder:
            self.server.recorder.data(self.cid, oraw.INGRESS, self.seq[1], self.pid, data, ts)
        self.seq[1] += len(data)
        self.transport.write(data)

    def close(self) -> None:
        if self.transport and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.record_close()
        self.impl and self.impl.lost()
        for t in list(self.tasks):
            t.cancel()

    def record_close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.conns.discard(self)
        if self.server.recorder:
            self.server.recorder.close_conn(self.cid, self.pid)
        log(f"conn {self.cid} closed ({self.seq[0]} bytes in, {self.seq[1]} bytes out)")

    def spawn(self, coro) -> None:
        t = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)

    def respond(self, req: providers.Request) -> providers.Response:
        try:
            resp = providers.dispatch(req, self.server.state)
        except Exception as e:  # a handler bug must not kill the connection silently
            log(f"handler error: {type(e).__name__}: {e}")
            resp = providers.oai_error(500, f"mock handler error: {e}", "server_error", None, req=req)
        log(f"conn {self.cid} {req.method} {req.target} -> {resp.status}{' (stream)' if resp.stream else ''}")
        return finalize(resp, req)


class H1Handler:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.buf = bytearray()
        self.event = asyncio.Event()
        self.at_eof = False
        conn.spawn(self.run())

    def feed(self, data: bytes) -> None:
        self.buf += data
        self.event.set()

    def eof(self) -> None:
        self.at_eof = True
        self.event.set()

    def lost(self) -> None:
        self.eof()

    async def wait(self) -> bool:
        if self.at_eof:
            return False
        self.event.clear()
        await self.event.wait()
        return True

    async def read_until(self, sep: bytes, start: int = 0) -> Optional[int]:
        while True:
            i = self.buf.find(sep, start)
            if i >= 0:
                return i
            start = max(0, len(self.buf) - len(sep) + 1)
            if not await self.wait() and self.buf.find(sep) < 0:
                return None

    async def read_exact(self, n: int) -> Optional[bytes]:
        while len(self.buf) < n:
            if not await self.wait() and len(self.buf) < n:
                return None
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def run(self) -> None:
        try:
            while True:
                i = await self.read_until(b"\r\n\r\n")
                if i is None:
                    break
                head = bytes(self.buf[:i]).decode("latin-1")
                del self.buf[: i + 4]
                lines = head.split("\r\n")
                try:
                    method, target, version = lines[0].split(" ", 2)
                except ValueError:
                    self.conn.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    break
                headers = []
                for ln in lines[1:]:
                    k, _, v = ln.partition(":")
                    headers.append((k.strip().lower(), v.strip()))
                hd = {k: v for k, v in headers}
                if hd.get("expect", "").lower() == "100-continue":
                    self.conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = b""
                if "chunked" in hd.get("transfer-encoding", "").lower():
                    parts = []
                    while True:
                        j = await self.read_until(b"\r\n")
                        if j is None:
                            return
                        size = int(bytes(self.buf[:j]).split(b";")[0].strip() or b"0", 16)
                        del self.buf[: j + 2]
                        if size == 0:
                            k = await self.read_until(b"\r\n")  # trailers end with an empty line
                            while k is not None and k > 0:
                                del self.buf[: k + 2]
                                k = await self.read_until(b"\r\n")
                            if k is not None:
                                del self.buf[:2]
                            break
                        chunk = await self.read_exact(size + 2)
                        if chunk is None:
                            return
                        parts.append(chunk[:-2])
                    body = b"".join(parts)
                elif "content-length" in hd:
                    got = await self.read_exact(int(hd["content-length"]))
                    if got is None:
                        return
                    body = got
                req = providers.Request(method, target, headers, body, scheme=self.conn.scheme)
                if hd.get("upgrade", "").lower() == "websocket":
                    log(f"conn {self.conn.cid} {method} {target} -> websocket")
                    await ws_server.serve(self, req, self.conn.server.state)
                    break
                resp = self.conn.respond(req)
                keep = hd.get("connection", "").lower() != "close" and version == "HTTP/1.1"
                await self.send(resp, keep)
                if not keep:
                    break
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.conn.close()

    async def send(self, resp: providers.Response, keep: bool) -> None:
        head = [f"HTTP/1.1 {resp.status} {reason(resp.status)}"]
        for k, v in resp.headers:
            head.append(f"{k}: {v}")
        if resp.stream is None:
            head.append(f"content-length: {len(resp.body)}")
        else:
            head.append("transfer-encoding: chunked")
        head.append("connection: keep-alive" if keep else "connection: close")
        head_b = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if resp.stream is None:
            self.conn.write(head_b + resp.body)
            return
        self.conn.write(head_b)
        async for piece in resp.stream:
            if self.conn.closed:
                return
            self.conn.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        self.conn.write(b"0\r\n\r\n")


class H2Handler:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        cfg = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config=cfg)
        self.h2.local_settings = h2.settings.Settings(client=False, initial_values={
            h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100,
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20,
            h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 65536,
        })
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(1 << 24)
        self.streams: Dict[int, Tuple[list, bytearray]] = {}
        self.reset: set = set()
        self.window = asyncio.Event()
        self.flush()

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.conn.write(data)

    def feed(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            log(f"h2 protocol error: {e}")
            self.flush()
            self.conn.close()
            return
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived):
                self.streams[ev.stream_id] = (ev.headers, bytearray())
            elif isinstance(ev, h2.events.DataReceived):
                if ev.stream_id in self.streams:
                    self.streams[ev.stream_id][1].extend(ev.data)
                self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                if ev.stream_id in self.streams:
                    self.conn.spawn(self.handle(ev.stream_id))
            elif isinstance(ev, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
                self.window.set()
            elif isinstance(ev, h2.events.StreamReset):
                self.reset.add(ev.stream_id)
                self.window.set()
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.flush()
                self.conn.close()
        self.flush()

    def eof(self) -> None:
        pass

    def lost(self) -> None:
        self.window.set()

    async def send_data(self, sid: int, data: bytes, end: bool) -> None:
        view = memoryview(data)
        while True:
            if sid in self.reset or self.conn.closed:
                return
            if not view:
                if end:
                    self.h2.end_stream(sid)
                    self.flush()
                return
            size = min(self.h2.local_flow_control_window(sid), self.h2.max_outbound_frame_size, len(view))
            if size <= 0:
                self.window.clear()
                await self.window.wait()
                continue
            last = size == len(view)
            self.h2.send_data(sid, bytes(view[:size]), end_stream=end and last)
            self.flush()
            view = view[size:]
            if last:
                return

    async def handle(self, sid: int) -> None:
        raw_headers, body = self.streams.pop(sid)
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw_headers]
        hd = dict(headers)
        req = providers.Request(hd.get(":method", "GET"), hd.get(":path", "/"),
                                [h for h in headers], bytes(body), scheme=self.conn.scheme)
        resp = self.conn.respond(req)
        out = [(":status", str(resp.status))] + [(k.lower(), v) for k, v in resp.headers]
        if resp.stream is None:
            out.append(("content-length", str(len(resp.body))))
        try:
            self.h2.send_headers(sid, out, end_stream=(resp.stream is None and not resp.body))
            self.flush()
            if resp.stream is None:
                if resp.body:
                    await self.send_data(sid, resp.body, True)
                return
            async for piece in resp.stream:
                await self.send_data(sid, piece, False)
            await self.send_data(sid, b"", True)
        except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError) as e:
            log(f"h2 stream {sid}: {type(e).__name__}")


# --------------------------------------------------------------------------------------------
# Main


def bind_pair(port: int) -> List[socket.socket]:
    """Binds 127.0.0.1 and ::1 on the same port (an ephemeral one when port is 0)."""
    for _attempt in range(50):
        s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s4.bind(("127.0.0.1", port))
        chosen = s4.getsockname()[1]
        socks = [s4]
        try:
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                s6.bind(("::1", chosen))
                socks.append(s6)
            except OSError as e:
                s6.close()
                if e.errno == errno.EADDRINUSE and port == 0:
                    s4.close()
                    continue
                if e.errno not in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    raise
        except OSError as e:
            if e.errno not in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):
                raise
        for s in socks:
            s.listen(256)
            s.setblocking(False)
        return socks
    raise OSError("could not bind 127.0.0.1 and ::1 on a common port")


async def amain(a: argparse.Namespace) -> int:
    ca, cert, key = ensure_certs(a.ca_dir)
    ctx = make_ssl_context(cert, key)
    recorder = None
    if a.record:
        os.makedirs(os.path.dirname(os.path.abspath(a.record)), exist_ok=True)
        meta = {"created_by": "oisp-sensor tools/mock-provider (MockRecorder)", "hostname": socket.gethostname(),
                "note": a.note or "", "view": "client"}
        recorder = Recorder(a.record, meta)
    server = Server(providers.State(a.stream_delay_ms), recorder)
    loop = asyncio.get_running_loop()
    servers = []
    tls_socks = bind_pair(a.port)
    https_port = tls_socks[0].getsockname()[1]
    for s in tls_socks:
        servers.append(await loop.create_server(lambda: Conn(server, "https"), sock=s, ssl=ctx,
                                                ssl_handshake_timeout=10))
    http_port = None
    if a.plain_port is not None:
        plain = bind_pair(a.plain_port)
        http_port = plain[0].getsockname()[1]
        for s in plain:
            servers.append(await loop.create_server(lambda: Conn(server, "http"), sock=s))
    info = {"https_port": https_port, "http_port": http_port, "ca_cert": os.path.abspath(ca), "pid": os.getpid()}
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(info, f)
            f.write("\n")
        os.replace(tmp, a.port_file)
    print(f"mock-provider listening: https://localhost:{https_port}"
          + (f" http://localhost:{http_port}" if http_port else "") + f" ca={os.path.abspath(ca)}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log("stopping")
    for s in servers:
        s.close()
    for c in list(server.conns):
        c.close()
    for _ in range(50):
        if not server.conns:
            break
        await asyncio.sleep(0.02)
    for c in list(server.conns):
        c.record_close()
    if recorder:
        recorder.close()
    return 0


def main() -> int:
    global QUIET
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8443, help="HTTPS port (0 = pick a free one)")
    ap.add_argument("--plain-port", type=int, default=None, help="also serve plain HTTP here (0 = pick one)")
    ap.add_argument("--ca-dir", default=os.path.join(HERE, ".ca"), help="where the CA and server cert live")
    ap.add_argument("--port-file", help="write {https_port, http_port, ca_cert, pid} as JSON here")
    ap.add_argument("--record", help="write the plaintext of every connection to this .oraw file")
    ap.add_argument("--note", help="free-form note stored in the recording's metadata")
    ap.add_argument("--stream-delay-ms", type=float, default=8.0, help="pause between streamed events")
    ap.add_argument("--quiet", action="store_true", help="no access log on stderr")
    a = ap.parse_args()
    QUIET = a.quiet
    return asyncio.run(amain(a))


if __name__ == "__main__":
    sys.exit(main())
