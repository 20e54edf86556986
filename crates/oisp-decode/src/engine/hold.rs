//! Holding back a process's system events while an HTTP exchange of it (or of an ancestor) is in
//! flight, so that the agent-session stage sees a response's tool calls before the commands and
//! file changes that carry them out.
//!
//! Agents may start a tool before the response naming it has ended (Claude Code runs a tool as
//! soon as its `tool_use` block is complete, while the stream goes on). The response's events
//! are only emitted once it ends; a command started meanwhile would reach the session stage
//! first and could not be linked. So a process, file or connect event of process P is held while
//! P or an ancestor has a client exchange started and not finished, and released — in order,
//! after the events that finished it — once none is, or after [`MAX_HOLD_NS`] of capture time,
//! or at the end of the capture. Events of one process never overtake each other; other
//! processes' events are not held up. Bounded: at most [`MAX_HELD`] events (beyond it the
//! oldest is released).

use super::procs::ProcessTable;
use oisp_event::Event;
use std::collections::{HashMap, HashSet, VecDeque};

/// Longest (capture time) an event is held.
pub const MAX_HOLD_NS: u64 = 5_000_000_000;
/// Most events held at once.
pub const MAX_HELD: usize = 16_384;
/// Deepest ancestry walked.
const MAX_DEPTH: usize = 64;

/// Client connections with an exchange in flight, by owning process.
#[derive(Debug, Default)]
pub struct InFlight {
    by_pid: HashMap<u32, HashSet<u64>>,
    owner: HashMap<u64, u32>,
}

impl InFlight {
    /// Connection `conn_id` of `pid` now has `pending` exchanges in flight.
    pub fn update(&mut self, conn_id: u64, pid: u32, pending: usize) {
        if pending > 0 {
            if self.owner.len() < 65_536 || self.owner.contains_key(&conn_id) {
                self.owner.insert(conn_id, pid);
                self.by_pid.entry(pid).or_default().insert(conn_id);
            }
        } else {
            self.closed(conn_id);
        }
    }

    /// Connection `conn_id` closed or was forgotten.
    pub fn closed(&mut self, conn_id: u64) {
        if let Some(pid) = self.owner.remove(&conn_id) {
            if let Some(set) = self.by_pid.get_mut(&pid) {
                set.remove(&conn_id);
                if set.is_empty() {
                    self.by_pid.remove(&pid);
                }
            }
        }
    }

    /// Whether `pid` or one of its ancestors has an exchange in flight.
    fn waits(&self, procs: &ProcessTable, pid: u32) -> bool {
        if self.by_pid.is_empty() {
            return false;
        }
        let mut cur = pid;
        for _ in 0..MAX_DEPTH {
            if self.by_pid.contains_key(&cur) {
                return true;
            }
            let Some(parent) = procs.get(cur).map(|p| p.image.ppid) else {
                return false;
            };
            if parent == cur || parent <= 1 {
                return false;
            }
            cur = parent;
        }
        false
    }
}

struct HeldEvent {
    event: Event,
    pid: u32,
    since_mono: u64,
}

/// System events held back (see the module docs).
#[derive(Default)]
pub struct Held {
    queue: VecDeque<HeldEvent>,
    /// How many events of each process are in `queue`.
    per_pid: HashMap<u32, usize>,
}

fn pid_of(ev: &Event) -> u32 {
    ev.process
        .as_ref()
        .and_then(|p| p.pid)
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or(0)
}

impl Held {
    /// Moves the events of `fresh` that must wait into the queue (with `now_mono`), the others
    /// to `out`, in order.
    pub fn offer(
        &mut self,
        fresh: Vec<Event>,
        now_mono: u64,
        procs: &ProcessTable,
        inflight: &InFlight,
        out: &mut Vec<Event>,
    ) {
        for event in fresh {
            let pid = pid_of(&event);
            let behind = self.per_pid.contains_key(&pid);
            if pid != 0 && (behind || inflight.waits(procs, pid)) {
                if self.queue.len() >= MAX_HELD {
                    if let Some(old) = self.queue.pop_front() {
                        self.forget_one(old.pid);
                        out.push(old.event);
                    }
                }
                *self.per_pid.entry(pid).or_default() += 1;
                self.queue.push_back(HeldEvent {
                    event,
                    pid,
                    since_mono: now_mono,
                });
            } else {
                out.push(event);
            }
        }
    }

    /// Releases to `out`, in order, every held event whose process no longer waits (or that
    /// waited [`MAX_HOLD_NS`]); all of them when `now_mono` is `None` (end of capture).
    pub fn release(
        &mut self,
        now_mono: Option<u64>,
        procs: &ProcessTable,
        inflight: &InFlight,
        out: &mut Vec<Event>,
    ) {
        if self.queue.is_empty() {
            return;
        }
        let mut still: VecDeque<HeldEvent> = VecDeque::new();
        let mut blocked: HashSet<u32> = HashSet::new();
        for h in std::mem::take(&mut self.queue) {
            let expired = now_mono.is_none_or(|now| now >= h.since_mono + MAX_HOLD_NS);
            let wait = !expired && (blocked.contains(&h.pid) || inflight.waits(procs, h.pid));
            if wait {
                blocked.insert(h.pid);
                still.push_back(h);
            } else {
                self.forget_one(h.pid);
                out.push(h.event);
            }
        }
        self.queue = still;
    }

    fn forget_one(&mut self, pid: u32) {
        if let Some(n) = self.per_pid.get_mut(&pid) {
            *n -= 1;
            if *n == 0 {
                self.per_pid.remove(&pid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oisp_capture::{ProcessExec, Timestamp};
    use oisp_event::{FileWrite, ProcessInfo};

    fn table() -> ProcessTable {
        let mut t = ProcessTable::default();
        for (pid, ppid) in [(10, 1), (11, 10), (20, 1)] {
            t.exec(&ProcessExec {
                ts: Timestamp::default(),
                pid,
                ppid,
                uid: 0,
                gid: 0,
                comm: String::new(),
                exe: format!("/bin/p{pid}"),
                args: vec![],
                cwd: None,
                cgroup: None,
                snapshot: false,
            });
        }
        t
    }

    fn ev(pid: u32, path: &str) -> Event {
        let data = FileWrite {
            path: path.into(),
            ..Default::default()
        };
        Event::new(data, oisp_event::Timestamp::new(1, 1), path).with_process(ProcessInfo {
            pid: Some(pid.into()),
            ..Default::default()
        })
    }

    #[test]
    fn events_below_an_exchange_in_flight_wait_in_order_and_others_pass() {
        let procs = table();
        let mut inflight = InFlight::default();
        inflight.update(7, 10, 1);
        let mut held = Held::default();
        let mut out = Vec::new();
        // the child of the process with a call in flight waits; an unrelated process does not
        held.offer(
            vec![ev(11, "a"), ev(20, "b")],
            0,
            &procs,
            &inflight,
            &mut out,
        );
        assert_eq!(
            out.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        held.release(Some(1), &procs, &inflight, &mut out);
        assert_eq!(out.len(), 1);
        // the response ended: released, then later events of that process pass at once
        inflight.update(7, 10, 0);
        held.release(Some(2), &procs, &inflight, &mut out);
        held.offer(vec![ev(11, "c")], 3, &procs, &inflight, &mut out);
        let ids: Vec<&str> = out.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["b", "a", "c"]);
    }

    #[test]
    fn nothing_waits_longer_than_the_limit_or_past_the_end() {
        let procs = table();
        let mut inflight = InFlight::default();
        inflight.update(7, 10, 1);
        let mut held = Held::default();
        let mut out = Vec::new();
        held.offer(vec![ev(10, "a")], 0, &procs, &inflight, &mut out);
        held.offer(vec![ev(10, "b")], MAX_HOLD_NS, &procs, &inflight, &mut out);
        held.release(Some(MAX_HOLD_NS), &procs, &inflight, &mut out);
        // "a" is released by age; "b", younger, still waits
        assert_eq!(
            out.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(),
            ["a"]
        );
        held.release(None, &procs, &inflight, &mut out);
        assert_eq!(out.len(), 2);
    }
}
