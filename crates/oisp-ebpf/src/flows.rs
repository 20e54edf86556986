//! TLS sockets followed for their metadata only: after its ClientHello a client's TLS socket stays
//! followed in the kernel (`bpf/sock_plain.bpf.h`, state `PLAIN_FLOW`), each read/write that moves
//! bytes a `struct oisp_flow` record. Here each such socket is the connection of its
//! metadata-only `ConnOpen` (source `ClientHello`), and its records become `FlowActivity` records
//! of that connection, its close a `ConnClose`.
//!
//! The table says which followed socket is which connection, and which socket to stop following
//! (the caller updates the kernel's map): one whose ClientHello named no server, one the decoder
//! found to carry no AI traffic (its server name is not an AI provider's), one whose content a
//! hooked TLS stack reads. What is no longer followed sends nothing more, not even a close.

use oisp_capture::{ConnClose, Direction, FlowActivity, RawRecord, Timestamp};
use std::collections::HashMap;

/// A followed socket: (process id, the kernel's `struct sock` address).
pub(crate) type FlowKey = (u32, u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Followed {
    conn_id: u64,
    fd: i32,
}

/// Sockets followed at most; past it new ones are not followed (the kernel is told to stop).
const MAX_FOLLOWED: usize = 16_384;

/// Every socket followed for its metadata.
#[derive(Debug, Default)]
pub(crate) struct Flows {
    by_sock: HashMap<FlowKey, Followed>,
}

/// A socket to stop following in the kernel: (process id, fd, `struct sock` address).
pub(crate) type Unfollow = (u32, i32, u64);

impl Flows {
    /// The ClientHello of socket `key` (on `fd`) was reported as connection `conn_id`; `None`
    /// when no connection was reported for it (no server name). Returns the socket when it is not
    /// to be followed.
    pub(crate) fn hello(
        &mut self,
        key: FlowKey,
        fd: i32,
        conn_id: Option<u64>,
    ) -> Option<Unfollow> {
        match conn_id {
            Some(conn_id) if self.by_sock.len() < MAX_FOLLOWED => {
                self.by_sock.insert(key, Followed { conn_id, fd });
                None
            }
            _ => Some((key.0, fd, key.1)),
        }
    }

    /// A read/write of `len` bytes (or, with `end`, the close) on socket `key`: its record, or
    /// nothing for a socket not (or no longer) followed.
    pub(crate) fn activity(
        &mut self,
        key: FlowKey,
        ts: Timestamp,
        len: u32,
        egress: bool,
        end: bool,
    ) -> Option<RawRecord> {
        if end {
            let f = self.by_sock.remove(&key)?;
            return Some(RawRecord::ConnClose(ConnClose {
                conn_id: f.conn_id,
                ts,
                pid: key.0,
            }));
        }
        let f = self.by_sock.get(&key)?;
        Some(RawRecord::FlowActivity(FlowActivity {
            conn_id: f.conn_id,
            ts,
            pid: key.0,
            direction: if egress {
                Direction::Egress
            } else {
                Direction::Ingress
            },
            bytes: len.into(),
        }))
    }

    /// Stops following connection `conn_id` (the decoder found it of no interest); `None` when it
    /// is not a followed connection.
    pub(crate) fn ignore(&mut self, conn_id: u64) -> Option<Unfollow> {
        let key = *self.by_sock.iter().find(|(_, f)| f.conn_id == conn_id)?.0;
        let f = self.by_sock.remove(&key)?;
        Some((key.0, f.fd, key.1))
    }

    /// A hooked TLS stack of process `pid` reads the content of the connection on `fd`: its
    /// socket, if followed, is not followed any more.
    pub(crate) fn read_by_stack(&mut self, pid: u32, fd: i32) -> Option<Unfollow> {
        let key = *self
            .by_sock
            .iter()
            .find(|(k, f)| k.0 == pid && f.fd == fd)?
            .0;
        self.by_sock.remove(&key);
        Some((pid, fd, key.1))
    }

    /// Process `pid` exited: its followed sockets end (the kernel closed them without a close(2)
    /// of the process), in connection order.
    pub(crate) fn process_exit(&mut self, pid: u32, ts: Timestamp, out: &mut Vec<RawRecord>) {
        let mut ended: Vec<u64> = self
            .by_sock
            .iter()
            .filter(|(k, _)| k.0 == pid)
            .map(|(_, f)| f.conn_id)
            .collect();
        self.by_sock.retain(|k, _| k.0 != pid);
        ended.sort_unstable();
        out.extend(
            ended
                .into_iter()
                .map(|conn_id| RawRecord::ConnClose(ConnClose { conn_id, ts, pid })),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(n: u64) -> Timestamp {
        Timestamp {
            wall_ns: n,
            mono_ns: n,
        }
    }

    #[test]
    fn a_followed_socket_reports_activity_then_its_close() {
        let mut f = Flows::default();
        assert_eq!(f.hello((7, 0xa), 5, Some(3)), None);
        match f.activity((7, 0xa), ts(1), 517, true, false) {
            Some(RawRecord::FlowActivity(a)) => {
                assert_eq!((a.conn_id, a.pid, a.bytes), (3, 7, 517));
                assert_eq!(a.direction, Direction::Egress);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            f.activity((7, 0xa), ts(2), 0, false, true),
            Some(RawRecord::ConnClose(ConnClose { conn_id: 3, .. }))
        ));
        assert_eq!(f.activity((7, 0xa), ts(3), 10, false, false), None);
        assert_eq!(f.activity((8, 0xa), ts(3), 10, false, false), None);
    }

    #[test]
    fn sockets_of_no_interest_are_unfollowed_once() {
        let mut f = Flows::default();
        assert_eq!(f.hello((7, 0xa), 5, None), Some((7, 5, 0xa)));
        f.hello((7, 0xb), 6, Some(4));
        f.hello((7, 0xc), 8, Some(9));
        assert_eq!(f.ignore(4), Some((7, 6, 0xb)));
        assert_eq!(f.ignore(4), None);
        assert_eq!(f.read_by_stack(7, 8), Some((7, 8, 0xc)));
        assert_eq!(f.read_by_stack(7, 8), None);
        f.hello((9, 0xd), 3, Some(11));
        f.hello((9, 0xe), 4, Some(10));
        let mut out = Vec::new();
        f.process_exit(9, ts(5), &mut out);
        let ids: Vec<u64> = out
            .iter()
            .map(|r| match r {
                RawRecord::ConnClose(c) => c.conn_id,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ids, vec![10, 11]);
    }
}
