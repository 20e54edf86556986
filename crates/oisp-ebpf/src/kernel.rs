//! The loaded BPF object as userspace sees it: the skeleton, the two ring buffers read into one
//! time-ordered batch, the kernel's loss and skip counters, and `muted`, the one map userspace
//! writes.

use crate::options::{CaptureError, CaptureOptions};
use crate::skel::OispSkel;
use crate::{load, wire};
use libbpf_rs::skel::Skel;
use libbpf_rs::{MapCore, MapFlags, Object, RingBuffer, RingBufferBuilder};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

/// What the kernel counted: records lost to full rings, bytes cut from oversized calls, data
/// calls skipped without a copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct KernelCounters {
    pub lost_tls: u64,
    pub lost_sys: u64,
    pub truncated_bytes: u64,
    pub skipped_server_calls: u64,
    pub skipped_ignored_calls: u64,
}

/// `struct plain_sock.state` of a socket no longer followed (`bpf/sock_plain.bpf.h`).
const PLAIN_OTHER: u8 = 2;

pub(crate) struct Kernel {
    skel: OispSkel<'static>,
    rings: RingBuffer<'static>,
    queue: Rc<RefCell<VecDeque<Vec<u8>>>>,
    /// Data probes are session uprobes.
    session: bool,
}

impl Kernel {
    /// Loads the programs `opts` needs, with session uprobes when the kernel has them, and opens
    /// both rings.
    pub(crate) fn load(opts: &CaptureOptions) -> Result<Kernel, CaptureError> {
        let mut session = opts.ssl && load::want_session_uprobes();
        let skel = match load::load(opts, session) {
            Ok(s) => s,
            // A kernel that reports 6.13+ but lacks session uprobes (backports, configs): the
            // uprobe/uretprobe pairs work everywhere.
            Err(_) if session => {
                session = false;
                load::load(opts, false)?
            }
            Err(e) => return Err(e),
        };
        let queue: Rc<RefCell<VecDeque<Vec<u8>>>> = Rc::default();
        let mut rb = RingBufferBuilder::new();
        for map in [&skel.maps.tls_ring, &skel.maps.sys_ring] {
            let q = Rc::clone(&queue);
            rb.add(map, move |data: &[u8]| {
                q.borrow_mut().push_back(data.to_vec());
                0
            })
            .map_err(|e| CaptureError::Load(e.to_string()))?;
        }
        let rings = rb.build().map_err(|e| CaptureError::Load(e.to_string()))?;
        Ok(Kernel {
            skel,
            rings,
            queue,
            session,
        })
    }

    pub(crate) fn object(&self) -> &Object {
        self.skel.object()
    }

    /// Whether the data probes may be session uprobes.
    pub(crate) fn session(&self) -> bool {
        self.session
    }

    /// Waits up to `timeout` (none: no wait) for records, then returns every record waiting in
    /// both rings, in the kernel's order (by timestamp: an exec must precede the TLS records of
    /// the process it started, though the two rings are read one after the other).
    pub(crate) fn read(&mut self, timeout: Option<Duration>) -> Result<Vec<Vec<u8>>, CaptureError> {
        let interrupted = |e: &libbpf_rs::Error| e.kind() == libbpf_rs::ErrorKind::Interrupted;
        if let Some(t) = timeout {
            if let Err(e) = self.rings.poll(t) {
                if !interrupted(&e) {
                    return Err(CaptureError::Poll(e.to_string()));
                }
            }
        }
        // TLS records do not wake us one by one (WAKE_BYTES in the BPF code): drain both rings
        // after every wakeup or timeout.
        if let Err(e) = self.rings.consume() {
            if !interrupted(&e) && timeout.is_some() {
                return Err(CaptureError::Poll(e.to_string()));
            }
        }
        let mut batch: Vec<Vec<u8>> = self.queue.borrow_mut().drain(..).collect();
        batch.sort_by_key(|r| wire::ts_of(r));
        Ok(batch)
    }

    /// The kernel's counters now.
    pub(crate) fn counters(&self) -> KernelCounters {
        let mut lost = [0u64; 3];
        for (slot, v) in lost.iter_mut().enumerate() {
            let key = (slot as u32).to_ne_bytes();
            if let Ok(Some(bytes)) = self.skel.maps.lost.lookup(&key, MapFlags::ANY) {
                if bytes.len() >= 8 {
                    *v = u64::from_ne_bytes(bytes[..8].try_into().unwrap_or([0; 8]));
                }
            }
        }
        let skipped = |slot: u32| -> u64 {
            match self
                .skel
                .maps
                .skips
                .lookup_percpu(&slot.to_ne_bytes(), MapFlags::ANY)
            {
                Ok(Some(cpus)) => cpus
                    .iter()
                    .filter_map(|b| b.get(..8).and_then(|b| b.try_into().ok()))
                    .map(u64::from_ne_bytes)
                    .sum(),
                _ => 0,
            }
        };
        KernelCounters {
            lost_tls: lost[wire::LOST_TLS as usize],
            lost_sys: lost[wire::LOST_SYS as usize],
            truncated_bytes: lost[wire::LOST_TRUNCATED_BYTES as usize],
            skipped_server_calls: skipped(wire::SKIP_SERVER),
            skipped_ignored_calls: skipped(wire::SKIP_IGNORED),
        }
    }

    /// Stops following socket `fd` of process `pid` (the kernel's `struct sock` at `sock`) for
    /// its metadata: its state in `plain_socks` becomes "something else" (`PLAIN_OTHER`), unless
    /// it is gone already. Returns whether the kernel had it.
    pub(crate) fn unfollow(&self, pid: u32, fd: i32, sock: u64) -> bool {
        let mut k = [0u8; 8];
        k[..4].copy_from_slice(&pid.to_ne_bytes());
        k[4..].copy_from_slice(&fd.to_ne_bytes());
        let mut v = [0u8; 16];
        v[..8].copy_from_slice(&sock.to_ne_bytes());
        v[8] = PLAIN_OTHER;
        self.skel
            .maps
            .plain_socks
            .update(&k, &v, MapFlags::EXIST)
            .is_ok()
    }

    /// Stops the copying of session (`pid`, `key`)'s plaintext in the kernel from its next data
    /// call on, until the session ends or gets a new socket; `why` is a `wire::SKIP_*`.
    pub(crate) fn mute(&self, pid: u32, key: u64, why: u32) -> bool {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&key.to_ne_bytes());
        k[8..12].copy_from_slice(&pid.to_ne_bytes());
        self.skel
            .maps
            .muted
            .update(&k, &[why as u8], MapFlags::ANY)
            .is_ok()
    }
}
