//! `RawRecord`: the only thing that crosses the capture → decode seam.
//!
//! Every capture source (eBPF, proxy, replay of a raw file) produces these records and nothing
//! else. They carry bytes and facts as observed, never interpretations: no HTTP, no providers.

use crate::container::ContainerInfo;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// A point in time as seen by the capture source.
///
/// `wall_ns` is nanoseconds since the Unix epoch (UTC) and `mono_ns` a monotonic clock
/// (CLOCK_MONOTONIC / `bpf_ktime_get_ns`) in nanoseconds. Decoding never reads a clock: every
/// timestamp of an emitted event comes from these values.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Timestamp {
    pub wall_ns: u64,
    pub mono_ns: u64,
}

/// Which way bytes flowed, from the point of view of the process that owns the connection
/// (`ConnRole` says whether that process is the client or the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// Written by the observed process (SSL_write / send): towards the peer.
    Egress,
    /// Read by the observed process (SSL_read / recv): from the peer.
    Ingress,
}

/// Where plaintext bytes were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DataSource {
    /// A shared OpenSSL library (libssl.so.3 / libssl.so.1.1).
    OpenSsl,
    /// OpenSSL linked statically into an executable (e.g. /usr/bin/node).
    OpenSslStatic,
    BoringSsl,
    GnuTls,
    GoTls,
    /// rustls, read at the AEAD boundary of its crypto provider (AWS-LC).
    Rustls,
    /// NSS's SSL sockets (libssl3), read at NSPR's `PR_Write`/`PR_Read`/`PR_Send`/`PR_Recv`.
    Nss,
    /// A plaintext socket (e.g. Ollama on :11434).
    Socket,
    /// Only the TLS ClientHello a client wrote on its socket: the server name and addresses of a
    /// connection whose content no hooked TLS stack read (a connection with no data).
    ClientHello,
    /// A MITM proxy terminating TLS.
    Proxy,
    /// The project's mock provider recording its own plaintext (test fixtures).
    MockRecorder,
    Unknown,
}

/// Whether the observed process initiated (client) or accepted (server) the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConnRole {
    Client,
    Server,
    Unknown,
}

/// A chunk of plaintext application data on one connection, in one direction.
///
/// `seq` is the byte offset of `bytes[0]` within that direction's stream of the connection
/// (like a TCP sequence number, starting at 0). Consecutive chunks satisfy
/// `next.seq == prev.seq + prev.bytes.len()`; a larger `seq` is a gap of known size, a smaller
/// one an overlap or duplicate. `truncated_len` > 0 says the capture source cut this many bytes
/// off the end of the original write/read (they are not in `bytes` and not counted in `seq` of
/// the next chunk: the next chunk's `seq` accounts for them, so the reassembler sees a gap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataChunk {
    pub conn_id: u64,
    pub direction: Direction,
    pub seq: u64,
    pub ts: Timestamp,
    pub pid: u32,
    pub tid: u32,
    pub source: DataSource,
    pub truncated_len: u32,
    pub bytes: Vec<u8>,
}

/// A connection (TLS session or socket) became known to the capture source.
///
/// `conn_id` is unique for the life of a capture and stable across every read and write of the
/// session. Addresses, SNI and ALPN are filled in when known. A `ConnOpen` of source
/// [`DataSource::ClientHello`] is metadata only: no data and no `ConnClose` follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnOpen {
    pub conn_id: u64,
    pub ts: Timestamp,
    pub pid: u32,
    pub tid: u32,
    pub role: ConnRole,
    pub source: DataSource,
    pub local: Option<SocketAddr>,
    pub remote: Option<SocketAddr>,
    pub sni: Option<String>,
    pub alpn: Option<String>,
}

/// A connection ended (close, SSL_free, or the capture source gave up on it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnClose {
    pub conn_id: u64,
    pub ts: Timestamp,
    pub pid: u32,
}

/// A process image was executed (execve succeeded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessExec {
    pub ts: Timestamp,
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    /// Kernel `comm` (at most 15 bytes).
    pub comm: String,
    pub exe: String,
    pub args: Vec<String>,
    pub cwd: Option<String>,
    pub cgroup: Option<String>,
    /// Not an exec seen happening: a process already running when the capture started, read
    /// from /proc (`ts` is its start time).
    #[serde(default)]
    pub snapshot: bool,
}

/// A process exited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessExit {
    pub ts: Timestamp,
    pub pid: u32,
    pub exit_code: i32,
    /// Signal that terminated the process, if any.
    pub signal: Option<u32>,
}

/// A process forked/cloned a new process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessFork {
    pub ts: Timestamp,
    pub parent_pid: u32,
    pub child_pid: u32,
}

/// The kind of file operation observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FileOpKind {
    Open,
    Read,
    Write,
    Delete,
    Rename,
}

/// A file operation by a process.
///
/// `bytes` is the byte count for read/write; `flags` the open(2) flags for open; `new_path` the
/// destination of a rename. `result` is the syscall's return value when known (negative errno).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOp {
    pub ts: Timestamp,
    pub pid: u32,
    pub tid: u32,
    pub kind: FileOpKind,
    pub path: String,
    pub new_path: Option<String>,
    pub flags: Option<u32>,
    pub bytes: Option<u64>,
    pub result: Option<i64>,
}

/// Transport protocol of a connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Transport {
    Tcp,
    Udp,
}

/// A process connected a socket (connect(2) or a TCP state change to ESTABLISHED).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetConnect {
    pub ts: Timestamp,
    pub pid: u32,
    pub tid: u32,
    pub fd: Option<i32>,
    pub transport: Transport,
    pub local: Option<SocketAddr>,
    pub remote: SocketAddr,
    /// Result of the connect (0 or negative errno) when known.
    pub result: Option<i32>,
}

/// The capture source lost records (ring buffer overflow, map full, read error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lost {
    pub ts: Timestamp,
    /// Which buffer or path lost them (e.g. "tls_ring").
    pub origin: String,
    pub count: u64,
}

/// A read or write on a connection followed for its metadata only (a TLS socket known from its
/// ClientHello, whose content no hooked stack reads): how many bytes moved which way, and when.
/// Lengths are of the TLS records as the process wrote or read them (handshake and record
/// overhead included); a read may hold several records the peer sent, or part of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowActivity {
    /// The connection of the metadata-only `ConnOpen` (source `ClientHello`).
    pub conn_id: u64,
    pub ts: Timestamp,
    pub pid: u32,
    pub direction: Direction,
    pub bytes: u64,
}

/// A DNS message a process read from its resolver (a UDP socket it connected to port 53): the
/// bytes as read, at most the first 1232 of them. The decoder parses them (answers name the
/// addresses connected to next).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsMessage {
    pub ts: Timestamp,
    pub pid: u32,
    pub tid: u32,
    /// The resolver's address (the socket's remote end), when known.
    pub server: Option<SocketAddr>,
    pub bytes: Vec<u8>,
}

/// Everything the capture layer can tell the decoder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RawRecord {
    Data(DataChunk),
    ConnOpen(ConnOpen),
    ConnClose(ConnClose),
    ProcessExec(ProcessExec),
    ProcessExit(ProcessExit),
    ProcessFork(ProcessFork),
    File(FileOp),
    NetConnect(NetConnect),
    Lost(Lost),
    /// The container behind a cgroup, before the first record that needs it.
    Container(ContainerInfo),
    FlowActivity(FlowActivity),
    DnsMessage(DnsMessage),
}

impl RawRecord {
    /// The timestamp of the observation this record describes.
    pub fn ts(&self) -> Timestamp {
        match self {
            RawRecord::Data(r) => r.ts,
            RawRecord::ConnOpen(r) => r.ts,
            RawRecord::ConnClose(r) => r.ts,
            RawRecord::ProcessExec(r) => r.ts,
            RawRecord::ProcessExit(r) => r.ts,
            RawRecord::ProcessFork(r) => r.ts,
            RawRecord::File(r) => r.ts,
            RawRecord::NetConnect(r) => r.ts,
            RawRecord::Lost(r) => r.ts,
            RawRecord::Container(r) => r.ts,
            RawRecord::FlowActivity(r) => r.ts,
            RawRecord::DnsMessage(r) => r.ts,
        }
    }
}
