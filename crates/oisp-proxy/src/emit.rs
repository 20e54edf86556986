//! What the proxy sees, as [`RawRecord`]s on a channel to [`ProxySource`](crate::ProxySource).
//!
//! One [`Emitter`] per proxy hands out connection ids, remembers which processes were already
//! described (a snapshot `ProcessExec` chain before a pid's first connection) and which
//! connections the decoder asked to ignore. A [`DirTap`] stamps one direction of one connection
//! with its running `seq`.

use crate::clock::Clock;
use crate::owner;
use oisp_capture::{
    ConnClose, ConnOpen, ConnRole, DataChunk, DataSource, Direction, NetConnect, RawRecord,
    Transport,
};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

/// Where the proxy's messages go (one line each, no trailing newline).
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// Records out, connection ids, process descriptions; shared by every connection task.
pub struct Emitter {
    /// Bounded ([`CHANNEL_RECORDS`]): a full channel holds the connection tasks back.
    tx: SyncSender<RawRecord>,
    clock: Clock,
    next_conn: AtomicU64,
    records: AtomicU64,
    seen_pids: Mutex<HashSet<u32>>,
    live: Mutex<HashSet<u64>>,
    ignored: Mutex<HashSet<u64>>,
    pub log: Log,
}

/// How many records may wait between the proxy and the pipeline (a record holds at most one
/// read of a socket: at most a few tens of MB in all).
pub const CHANNEL_RECORDS: usize = 4096;

/// A blocking send that, on a worker of a multi-threaded runtime, first hands the worker's other
/// tasks to another thread.
fn wait_to_send(tx: &SyncSender<RawRecord>, r: RawRecord) -> Result<(), ()> {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi {
        tokio::task::block_in_place(|| tx.send(r).map_err(|_| ()))
    } else {
        tx.send(r).map_err(|_| ())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A connection about to be relayed: who and where.
pub struct ConnFacts {
    pub pid: u32,
    pub client: SocketAddr,
    pub remote: Option<SocketAddr>,
    pub sni: Option<String>,
    pub alpn: Option<String>,
}

impl Emitter {
    pub fn new(tx: SyncSender<RawRecord>, log: Log) -> Self {
        Emitter {
            tx,
            clock: Clock,
            next_conn: AtomicU64::new(1),
            records: AtomicU64::new(0),
            seen_pids: Mutex::new(HashSet::new()),
            live: Mutex::new(HashSet::new()),
            ignored: Mutex::new(HashSet::new()),
            log,
        }
    }

    /// Sends a record to the pipeline. When the pipeline is behind and the channel full, the
    /// calling connection task waits (its worker handed to other tasks): back-pressure on the
    /// clients instead of unbounded memory, and no record dropped.
    fn send(&self, r: RawRecord) {
        // Counted before the send, so that a consumer that received a record sees it counted.
        self.records.fetch_add(1, Ordering::Relaxed);
        let sent = match self.tx.try_send(r) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(r)) => wait_to_send(&self.tx, r),
            Err(TrySendError::Disconnected(_)) => Err(()),
        };
        // A closed channel means the consumer is gone (shutting down): nothing to do.
        if sent.is_err() {
            self.records.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Records sent so far.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// Describes `pid` (and its ancestors) once per run, parents first.
    fn describe_process(&self, pid: u32) {
        if pid == 0 || !lock(&self.seen_pids).insert(pid) {
            return;
        }
        let chain = owner::process_chain(pid, &self.clock);
        for exec in chain.into_iter().rev() {
            if exec.pid != pid && !lock(&self.seen_pids).insert(exec.pid) {
                continue;
            }
            self.send(RawRecord::ProcessExec(exec));
        }
    }

    /// Opens a captured connection: process description, `ConnOpen`, and the two taps
    /// (egress = client → upstream, ingress = upstream → client).
    pub fn open(self: &Arc<Self>, f: ConnFacts) -> (DirTap, DirTap) {
        self.describe_process(f.pid);
        let conn_id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        lock(&self.live).insert(conn_id);
        self.send(RawRecord::ConnOpen(ConnOpen {
            conn_id,
            ts: self.clock.now(),
            pid: f.pid,
            tid: f.pid,
            role: ConnRole::Client,
            source: DataSource::Proxy,
            local: Some(f.client),
            remote: f.remote,
            sni: f.sni,
            alpn: f.alpn,
        }));
        let tap = |direction| DirTap {
            emitter: Arc::clone(self),
            conn_id,
            pid: f.pid,
            direction,
            seq: 0,
        };
        (tap(Direction::Egress), tap(Direction::Ingress))
    }

    /// Ends a captured connection.
    pub fn close(&self, conn_id: u64, pid: u32) {
        lock(&self.live).remove(&conn_id);
        lock(&self.ignored).remove(&conn_id);
        self.send(RawRecord::ConnClose(ConnClose {
            conn_id,
            ts: self.clock.now(),
            pid,
        }));
    }

    /// A connection tunnelled without interception: a connect record only.
    pub fn tunnelled(&self, pid: u32, client: SocketAddr, remote: SocketAddr) {
        self.describe_process(pid);
        self.send(RawRecord::NetConnect(NetConnect {
            ts: self.clock.now(),
            pid,
            tid: pid,
            fd: None,
            transport: Transport::Tcp,
            local: Some(client),
            remote,
            result: Some(0),
        }));
    }

    /// The decoder found `conn_id` to carry no AI traffic: its data stops being recorded.
    /// True when the connection is live.
    pub fn ignore(&self, conn_id: u64) -> bool {
        if lock(&self.live).contains(&conn_id) {
            lock(&self.ignored).insert(conn_id);
            true
        } else {
            false
        }
    }

    /// Connections ignored so far that are still open.
    pub fn ignored_count(&self) -> u64 {
        lock(&self.ignored).len() as u64
    }
}

/// One direction of one captured connection.
pub struct DirTap {
    emitter: Arc<Emitter>,
    pub conn_id: u64,
    pub pid: u32,
    direction: Direction,
    seq: u64,
}

impl DirTap {
    /// Records `bytes` as the next chunk of this direction.
    pub fn data(&mut self, bytes: &[u8]) {
        let seq = self.seq;
        self.seq += bytes.len() as u64;
        if lock(&self.emitter.ignored).contains(&self.conn_id) {
            return;
        }
        self.emitter.send(RawRecord::Data(DataChunk {
            conn_id: self.conn_id,
            direction: self.direction,
            seq,
            ts: self.emitter.clock.now(),
            pid: self.pid,
            tid: self.pid,
            source: DataSource::Proxy,
            truncated_len: 0,
            bytes: bytes.to_vec(),
        }));
    }

    pub fn emitter(&self) -> &Arc<Emitter> {
        &self.emitter
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oisp_capture::{Lost, Timestamp};
    use std::time::Duration;

    fn record(n: u64) -> RawRecord {
        RawRecord::Lost(Lost {
            ts: Timestamp::default(),
            origin: "test".into(),
            count: n,
        })
    }

    /// A full channel makes senders wait, on runtime workers too, and loses nothing.
    #[test]
    fn a_full_channel_holds_senders_back_and_loses_nothing() {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        let emitter = Arc::new(Emitter::new(tx, Arc::new(|_: &str| {})));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let tasks: Vec<_> = (0..4u64)
            .map(|t| {
                let e = Arc::clone(&emitter);
                rt.spawn(async move {
                    for i in 0..25 {
                        e.send(record(t * 100 + i));
                    }
                })
            })
            .collect();
        // The consumer starts late: every sender has hit the full channel by then.
        std::thread::sleep(Duration::from_millis(100));
        assert!(emitter.records() <= 2 + 4, "senders waited");
        let mut got = Vec::new();
        while got.len() < 100 {
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok(RawRecord::Lost(l)) => got.push(l.count),
                other => panic!("{other:?}"),
            }
        }
        rt.block_on(async {
            for t in tasks {
                t.await.unwrap();
            }
        });
        got.sort_unstable();
        let want: Vec<u64> = (0..4u64)
            .flat_map(|t| (0..25).map(move |i| t * 100 + i))
            .collect();
        assert_eq!(got, want);
        assert_eq!(emitter.records(), 100);
    }
}
