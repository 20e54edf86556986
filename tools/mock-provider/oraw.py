#!/usr/bin/env python3
"""Reader and writer for the raw capture format (`.oraw`, version 1).

The format is specified in docs/raw-format.md and maps to `RawRecord` in
crates/oisp-capture/src/record.rs. Records are represented here as small dataclasses whose
field names follow the Rust types. Addresses are `(ip_string, port)` tuples or None.

CLI:
    python3 oraw.py dump FILE [--max-bytes N] [--full]   print every record human-readably
    python3 oraw.py check FILE                            verify per-direction seq contiguity
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import struct
import sys
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator, List, Optional, Tuple, Union

MAGIC = b"OISPRAW\0"
VERSION = 1
MAX_BODY = 64 * 1024 * 1024

TAG_DATA = 1
TAG_CONN_OPEN = 2
TAG_CONN_CLOSE = 3
TAG_PROCESS_EXEC = 4
TAG_PROCESS_EXIT = 5
TAG_PROCESS_FORK = 6
TAG_FILE = 7
TAG_NET_CONNECT = 8
TAG_LOST = 9

EGRESS = 0
INGRESS = 1

ROLE_CLIENT = 0
ROLE_SERVER = 1
ROLE_UNKNOWN = 2

SOURCES = {
    0: "OpenSsl",
    1: "OpenSslStatic",
    2: "BoringSsl",
    3: "GnuTls",
    4: "GoTls",
    5: "Socket",
    6: "Proxy",
    7: "MockRecorder",
    255: "Unknown",
}
SOURCE_MOCK_RECORDER = 7
FILE_KINDS = {0: "Open", 1: "Read", 2: "Write", 3: "Delete", 4: "Rename"}

Addr = Tuple[str, int]


@dataclass
class Timestamp:
    wall_ns: int
    mono_ns: int


@dataclass
class Data:
    conn_id: int
    direction: int
    seq: int
    ts: Timestamp
    pid: int
    tid: int
    source: int
    truncated_len: int
    bytes: bytes


@dataclass
class ConnOpen:
    conn_id: int
    ts: Timestamp
    pid: int
    tid: int
    role: int
    source: int
    local: Optional[Addr]
    remote: Optional[Addr]
    sni: Optional[str]
    alpn: Optional[str]


@dataclass
class ConnClose:
    conn_id: int
    ts: Timestamp
    pid: int


@dataclass
class ProcessExec:
    ts: Timestamp
    pid: int
    ppid: int
    uid: int
    gid: int
    comm: str
    exe: str
    args: List[str] = field(default_factory=list)
    cwd: Optional[str] = None
    cgroup: Optional[str] = None


@dataclass
class ProcessExit:
    ts: Timestamp
    pid: int
    exit_code: int
    signal: Optional[int]


@dataclass
class ProcessFork:
    ts: Timestamp
    parent_pid: int
    child_pid: int


@dataclass
class FileOp:
    ts: Timestamp
    pid: int
    tid: int
    kind: int
    path: str
    new_path: Optional[str]
    flags: Optional[int]
    bytes: Optional[int]
    result: Optional[int]


@dataclass
class NetConnect:
    ts: Timestamp
    pid: int
    tid: int
    fd: Optional[int]
    transport: int
    local: Optional[Addr]
    remote: Addr
    result: Optional[int]


@dataclass
class Lost:
    ts: Timestamp
    origin: str
    count: int


@dataclass
class Unknown:
    tag: int
    body: bytes


Record = Union[Data, ConnOpen, ConnClose, ProcessExec, ProcessExit, ProcessFork, FileOp, NetConnect, Lost]


class FormatError(Exception):
    pass


class Truncated(FormatError):
    pass


# ---------------------------------------------------------------------------------------------
# Encoding


class _Enc:
    def __init__(self) -> None:
        self.parts: List[bytes] = []

    def u8(self, v: int) -> None:
        self.parts.append(struct.pack("<B", v))

    def u16(self, v: int) -> None:
        self.parts.append(struct.pack("<H", v))

    def u32(self, v: int) -> None:
        self.parts.append(struct.pack("<I", v))

    def u64(self, v: int) -> None:
        self.parts.append(struct.pack("<Q", v))

    def i32(self, v: int) -> None:
        self.parts.append(struct.pack("<i", v))

    def i64(self, v: int) -> None:
        self.parts.append(struct.pack("<q", v))

    def bytes_(self, b: bytes) -> None:
        self.u32(len(b))
        self.parts.append(bytes(b))

    def str_(self, s: str) -> None:
        self.bytes_(s.encode("utf-8"))

    def opt(self, v, f) -> None:
        if v is None:
            self.u8(0)
        else:
            self.u8(1)
            f(v)

    def list_str(self, items: List[str]) -> None:
        self.u32(len(items))
        for s in items:
            self.str_(s)

    def ts(self, t: Timestamp) -> None:
        self.u64(t.wall_ns)
        self.u64(t.mono_ns)

    def addr(self, a: Addr) -> None:
        ip = ipaddress.ip_address(a[0].split("%")[0])
        if ip.version == 4:
            self.u8(4)
        else:
            self.u8(6)
        self.parts.append(ip.packed)
        self.u16(a[1])

    def opt_addr(self, a: Optional[Addr]) -> None:
        if a is None:
            self.u8(0)
        else:
            self.addr(a)

    def done(self) -> bytes:
        return b"".join(self.parts)


def encode_record(rec: Record) -> Tuple[int, bytes]:
    e = _Enc()
    if isinstance(rec, Data):
        e.u64(rec.conn_id)
        e.u8(rec.direction)
        e.u64(rec.seq)
        e.ts(rec.ts)
        e.u32(rec.pid)
        e.u32(rec.tid)
        e.u8(rec.source)
        e.u32(rec.truncated_len)
        e.bytes_(rec.bytes)
        return TAG_DATA, e.done()
    if isinstance(rec, ConnOpen):
        e.u64(rec.conn_id)
        e.ts(rec.ts)
        e.u32(rec.pid)
        e.u32(rec.tid)
        e.u8(rec.role)
        e.u8(rec.source)
        e.opt_addr(rec.local)
        e.opt_addr(rec.remote)
        e.opt(rec.sni, e.str_)
        e.opt(rec.alpn, e.str_)
        return TAG_CONN_OPEN, e.done()
    if isinstance(rec, ConnClose):
        e.u64(rec.conn_id)
        e.ts(rec.ts)
        e.u32(rec.pid)
        return TAG_CONN_CLOSE, e.done()
    if isinstance(rec, ProcessExec):
        e.ts(rec.ts)
        e.u32(rec.pid)
        e.u32(rec.ppid)
        e.u32(rec.uid)
        e.u32(rec.gid)
        e.str_(rec.comm)
        e.str_(rec.exe)
        e.list_str(rec.args)
        e.opt(rec.cwd, e.str_)
        e.opt(rec.cgroup, e.str_)
        return TAG_PROCESS_EXEC, e.done()
    if isinstance(rec, ProcessExit):
        e.ts(rec.ts)
        e.u32(rec.pid)
        e.i32(rec.exit_code)
        e.opt(rec.signal, e.u32)
        return TAG_PROCESS_EXIT, e.done()
    if isinstance(rec, ProcessFork):
        e.ts(rec.ts)
        e.u32(rec.parent_pid)
        e.u32(rec.child_pid)
        return TAG_PROCESS_FORK, e.done()
    if isinstance(rec, FileOp):
        e.ts(rec.ts)
        e.u32(rec.pid)
        e.u32(rec.tid)
        e.u8(rec.kind)
        e.str_(rec.path)
        e.opt(rec.new_path, e.str_)
        e.opt(rec.flags, e.u32)
        e.opt(rec.bytes, e.u64)
        e.opt(rec.result, e.i64)
        return TAG_FILE, e.done()
    if isinstance(rec, NetConnect):
        e.ts(rec.ts)
        e.u32(rec.pid)
        e.u32(rec.tid)
        e.opt(rec.fd, e.i32)
        e.u8(rec.transport)
        e.opt_addr(rec.local)
        e.addr(rec.remote)
        e.opt(rec.result, e.i32)
        return TAG_NET_CONNECT, e.done()
    if isinstance(rec, Lost):
        e.ts(rec.ts)
        e.str_(rec.origin)
        e.u64(rec.count)
        return TAG_LOST, e.done()
    raise TypeError(f"not a record: {rec!r}")


class Writer:
    """Writes a `.oraw` file. Use as a context manager or call close()."""

    def __init__(self, f: Union[str, BinaryIO], meta: Optional[dict] = None, flush_each: bool = True):
        self._own = isinstance(f, str)
        self.f: BinaryIO = open(f, "wb") if isinstance(f, str) else f
        self.flush_each = flush_each
        m = json.dumps(meta or {}, sort_keys=True).encode("utf-8")
        self.f.write(MAGIC + struct.pack("<HHI", VERSION, 0, len(m)) + m)
        self.count = 0

    def write(self, rec: Record) -> None:
        tag, body = encode_record(rec)
        if len(body) > MAX_BODY:
            raise FormatError(f"record body of {len(body)} bytes exceeds {MAX_BODY}")
        self.f.write(struct.pack("<BI", tag, len(body)) + body)
        self.count += 1
        if self.flush_each:
            self.f.flush()

    def close(self) -> None:
        self.f.flush()
        if self._own:
            self.f.close()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# Decoding


class _Dec:
    def __init__(self, b: bytes) -> None:
        self.b = b
        self.i = 0

    def take(self, n: int) -> bytes:
        if self.i + n > len(self.b):
            raise FormatError("record body too short")
        v = self.b[self.i : self.i + n]
        self.i += n
        return v

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def i32(self) -> int:
        return struct.unpack("<i", self.take(4))[0]

    def i64(self) -> int:
        return struct.unpack("<q", self.take(8))[0]

    def bytes_(self) -> bytes:
        return self.take(self.u32())

    def str_(self) -> str:
        return self.bytes_().decode("utf-8")

    def opt(self, f):
        flag = self.u8()
        if flag == 0:
            return None
        if flag != 1:
            raise FormatError(f"bad option flag {flag}")
        return f()

    def list_str(self) -> List[str]:
        return [self.str_() for _ in range(self.u32())]

    def ts(self) -> Timestamp:
        return Timestamp(self.u64(), self.u64())

    def addr_body(self, fam: int) -> Addr:
        if fam == 4:
            ip = str(ipaddress.IPv4Address(self.take(4)))
        elif fam == 6:
            ip = str(ipaddress.IPv6Address(self.take(16)))
        else:
            raise FormatError(f"bad address family {fam}")
        return (ip, self.u16())

    def addr(self) -> Addr:
        return self.addr_body(self.u8())

    def opt_addr(self) -> Optional[Addr]:
        fam = self.u8()
        if fam == 0:
            return None
        return self.addr_body(fam)


def decode_record(tag: int, body: bytes):
    d = _Dec(body)
    if tag == TAG_DATA:
        return Data(d.u64(), d.u8(), d.u64(), d.ts(), d.u32(), d.u32(), d.u8(), d.u32(), d.bytes_())
    if tag == TAG_CONN_OPEN:
        return ConnOpen(d.u64(), d.ts(), d.u32(), d.u32(), d.u8(), d.u8(), d.opt_addr(), d.opt_addr(),
                        d.opt(d.str_), d.opt(d.str_))
    if tag == TAG_CONN_CLOSE:
        return ConnClose(d.u64(), d.ts(), d.u32())
    if tag == TAG_PROCESS_EXEC:
        return ProcessExec(d.ts(), d.u32(), d.u32(), d.u32(), d.u32(), d.str_(), d.str_(), d.list_str(),
                           d.opt(d.str_), d.opt(d.str_))
    if tag == TAG_PROCESS_EXIT:
        return ProcessExit(d.ts(), d.u32(), d.i32(), d.opt(d.u32))
    if tag == TAG_PROCESS_FORK:
        return ProcessFork(d.ts(), d.u32(), d.u32())
    if tag == TAG_FILE:
        return FileOp(d.ts(), d.u32(), d.u32(), d.u8(), d.str_(), d.opt(d.str_), d.opt(d.u32), d.opt(d.u64),
                      d.opt(d.i64))
    if tag == TAG_NET_CONNECT:
        return NetConnect(d.ts(), d.u32(), d.u32(), d.opt(d.i32), d.u8(), d.opt_addr(), d.addr(), d.opt(d.i32))
    if tag == TAG_LOST:
        return Lost(d.ts(), d.str_(), d.u64())
    return Unknown(tag, body)


class Reader:
    """Iterates the records of a `.oraw` file.

    After iteration, `unknown` counts skipped records of unknown tags and `truncated` says whether the
    file ended inside a record (every complete record before it was yielded).
    """

    def __init__(self, f: Union[str, BinaryIO]):
        self._own = isinstance(f, str)
        self.f: BinaryIO = open(f, "rb") if isinstance(f, str) else f
        hdr = self.f.read(16)
        if len(hdr) < 16 or hdr[:8] != MAGIC:
            raise FormatError("not an oraw file (bad magic)")
        self.version, _reserved, meta_len = struct.unpack("<HHI", hdr[8:])
        if self.version != VERSION:
            raise FormatError(f"unsupported version {self.version}")
        m = self.f.read(meta_len)
        if len(m) < meta_len:
            raise Truncated("file ends inside the metadata")
        self.meta = json.loads(m.decode("utf-8")) if m else {}
        self.unknown = 0
        self.truncated = False

    def __iter__(self) -> Iterator[Record]:
        while True:
            h = self.f.read(5)
            if not h:
                return
            if len(h) < 5:
                self.truncated = True
                return
            tag, n = struct.unpack("<BI", h)
            if n > MAX_BODY:
                raise FormatError(f"record body length {n} exceeds {MAX_BODY}")
            body = self.f.read(n)
            if len(body) < n:
                self.truncated = True
                return
            rec = decode_record(tag, body)
            if isinstance(rec, Unknown):
                self.unknown += 1
                continue
            yield rec

    def close(self) -> None:
        if self._own:
            self.f.close()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_all(path: str) -> Tuple[dict, List[Record]]:
    with Reader(path) as r:
        recs = list(r)
        return r.meta, recs


# ---------------------------------------------------------------------------------------------
# CLI


def _fmt_addr(a: Optional[Addr]) -> str:
    if a is None:
        return "-"
    return f"[{a[0]}]:{a[1]}" if ":" in a[0] else f"{a[0]}:{a[1]}"


def _fmt_ts(t: Timestamp) -> str:
    return f"{t.wall_ns // 1_000_000_000}.{t.wall_ns % 1_000_000_000:09d}"


def _fmt_bytes(b: bytes, limit: Optional[int]) -> str:
    shown = b if limit is None else b[:limit]
    out = []
    for ch in shown:
        if ch == 0x0A:
            out.append("\\n\n")
        elif ch == 0x0D:
            out.append("\\r")
        elif ch == 0x09 or 0x20 <= ch < 0x7F:
            out.append(chr(ch))
        else:
            out.append(f"\\x{ch:02x}")
    s = "".join(out)
    if limit is not None and len(b) > limit:
        s += f"... [{len(b) - limit} more bytes]"
    return s


def describe(rec: Record) -> str:
    if isinstance(rec, Data):
        d = "egress " if rec.direction == EGRESS else "ingress"
        return (f"DATA      conn={rec.conn_id} {d} seq={rec.seq} len={len(rec.bytes)} pid={rec.pid} "
                f"tid={rec.tid} src={SOURCES.get(rec.source, rec.source)} trunc={rec.truncated_len} "
                f"ts={_fmt_ts(rec.ts)}")
    if isinstance(rec, ConnOpen):
        role = {0: "client", 1: "server"}.get(rec.role, "unknown")
        return (f"CONN_OPEN conn={rec.conn_id} role={role} pid={rec.pid} tid={rec.tid} "
                f"src={SOURCES.get(rec.source, rec.source)} local={_fmt_addr(rec.local)} "
                f"remote={_fmt_addr(rec.remote)} sni={rec.sni} alpn={rec.alpn} ts={_fmt_ts(rec.ts)}")
    if isinstance(rec, ConnClose):
        return f"CONN_CLOSE conn={rec.conn_id} pid={rec.pid} ts={_fmt_ts(rec.ts)}"
    if isinstance(rec, ProcessExec):
        return (f"EXEC      pid={rec.pid} ppid={rec.ppid} uid={rec.uid} gid={rec.gid} comm={rec.comm!r} "
                f"exe={rec.exe!r} args={rec.args!r} cwd={rec.cwd!r} cgroup={rec.cgroup!r} ts={_fmt_ts(rec.ts)}")
    if isinstance(rec, ProcessExit):
        return f"EXIT      pid={rec.pid} code={rec.exit_code} signal={rec.signal} ts={_fmt_ts(rec.ts)}"
    if isinstance(rec, ProcessFork):
        return f"FORK      parent={rec.parent_pid} child={rec.child_pid} ts={_fmt_ts(rec.ts)}"
    if isinstance(rec, FileOp):
        return (f"FILE      pid={rec.pid} kind={FILE_KINDS.get(rec.kind, rec.kind)} path={rec.path!r} "
                f"new_path={rec.new_path!r} flags={rec.flags} bytes={rec.bytes} result={rec.result}")
    if isinstance(rec, NetConnect):
        return (f"CONNECT   pid={rec.pid} tid={rec.tid} fd={rec.fd} {'udp' if rec.transport else 'tcp'} "
                f"local={_fmt_addr(rec.local)} remote={_fmt_addr(rec.remote)} result={rec.result}")
    if isinstance(rec, Lost):
        return f"LOST      origin={rec.origin} count={rec.count} ts={_fmt_ts(rec.ts)}"
    return repr(rec)


def check_contiguity(records: List[Record]) -> List[str]:
    """Returns a list of problems: seq gaps/overlaps, data before ConnOpen, data after ConnClose."""
    problems = []
    nxt = {}
    opened = set()
    closed = set()
    for r in records:
        if isinstance(r, ConnOpen):
            if r.conn_id in opened:
                problems.append(f"conn {r.conn_id} opened twice")
            opened.add(r.conn_id)
            nxt[(r.conn_id, EGRESS)] = 0
            nxt[(r.conn_id, INGRESS)] = 0
        elif isinstance(r, Data):
            if r.conn_id not in opened:
                problems.append(f"conn {r.conn_id}: data before ConnOpen")
            if r.conn_id in closed:
                problems.append(f"conn {r.conn_id}: data after ConnClose")
            k = (r.conn_id, r.direction)
            exp = nxt.get(k, 0)
            if r.seq != exp:
                problems.append(f"conn {r.conn_id} dir {r.direction}: seq {r.seq} != expected {exp}")
            nxt[k] = r.seq + len(r.bytes) + r.truncated_len
        elif isinstance(r, ConnClose):
            closed.add(r.conn_id)
    for c in opened - closed:
        problems.append(f"conn {c} never closed")
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="oraw", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    dp = sub.add_parser("dump", help="print records human-readably")
    dp.add_argument("file")
    dp.add_argument("--max-bytes", type=int, default=2048, help="payload bytes shown per Data record")
    dp.add_argument("--full", action="store_true", help="show every payload byte")
    dp.add_argument("--no-data", action="store_true", help="omit payloads")
    dp.add_argument("--conn", type=int, action="append", help="only this conn_id (repeatable)")
    cp = sub.add_parser("check", help="verify seq contiguity and open/close pairing")
    cp.add_argument("file")
    a = ap.parse_args(argv)

    with Reader(a.file) as r:
        if a.cmd == "dump":
            out = sys.stdout
            out.write(f"# meta: {json.dumps(r.meta, sort_keys=True)}\n")
            n = 0
            for rec in r:
                n += 1
                if a.conn and getattr(rec, "conn_id", None) not in a.conn:
                    continue
                out.write(describe(rec) + "\n")
                if isinstance(rec, Data) and not a.no_data:
                    text = _fmt_bytes(rec.bytes, None if a.full else a.max_bytes)
                    for line in text.split("\n"):
                        if line:
                            out.write("    | " + line + "\n")
            out.write(f"# {n} records, {r.unknown} unknown, truncated={r.truncated}\n")
            return 0
        recs = list(r)
        problems = check_contiguity(recs)
        if r.truncated:
            problems.append("file is truncated")
        conns = sum(1 for x in recs if isinstance(x, ConnOpen))
        data = sum(1 for x in recs if isinstance(x, Data))
        for p in problems:
            print("PROBLEM:", p)
        print(f"{a.file}: {len(recs)} records, {conns} connections, {data} data chunks, "
              f"{len(problems)} problems")
        return 1 if problems else 0


if __name__ == "__main__":
    import signal as _signal

    _signal.signal(_signal.SIGPIPE, _signal.SIG_DFL)
    sys.exit(main())
