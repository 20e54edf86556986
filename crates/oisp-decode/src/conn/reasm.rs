//! Per-direction stream reassembly by byte offset (`DataChunk::seq`).
//!
//! Contract: delivers bytes exactly once and in order; duplicates and overlapping prefixes are
//! dropped; out-of-order chunks are held (bounded by bytes and count) until the hole fills; a
//! hole is declared a gap when a chunk says it was truncated, when the hold buffer overflows,
//! or on `flush` (close / end of capture). Gaps are delivered as `Seg::Gap` at their position.

use crate::http::ChunkMeta;
use std::collections::BTreeMap;

/// A piece of the reassembled stream.
#[derive(Debug)]
pub(crate) enum Seg<'a> {
    Data(&'a [u8], ChunkMeta),
    /// `len` bytes starting at `offset` were lost.
    Gap {
        offset: u64,
        len: u64,
        meta: ChunkMeta,
    },
}

struct Held {
    bytes: Vec<u8>,
    truncated: u32,
    meta: ChunkMeta,
}

/// Reassembler for one direction of one connection.
#[derive(Default)]
pub(crate) struct Reassembler {
    next: u64,
    held: BTreeMap<u64, Held>,
    held_bytes: usize,
}

/// Bounds of the hold buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HoldLimits {
    pub bytes: usize,
    pub chunks: usize,
}

impl Reassembler {
    /// Offset of the next expected byte.
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// Accepts a chunk and delivers whatever became in-order.
    pub fn push(
        &mut self,
        seq: u64,
        bytes: &[u8],
        truncated: u32,
        meta: ChunkMeta,
        lim: HoldLimits,
        f: &mut impl FnMut(Seg<'_>),
    ) {
        let end = seq.saturating_add(bytes.len() as u64);
        // A delivered chunk always ends before `next` or exactly at it with nothing truncated.
        if end < self.next || (end == self.next && truncated == 0) {
            return; // duplicate
        }
        if seq <= self.next {
            let skip = usize::try_from(self.next - seq).unwrap_or(usize::MAX);
            self.deliver(bytes.get(skip..).unwrap_or_default(), truncated, meta, f);
            self.drain_ready(f);
            return;
        }
        let held = self.held.entry(seq).or_insert(Held {
            bytes: Vec::new(),
            truncated: 0,
            meta,
        });
        if bytes.len() >= held.bytes.len() {
            self.held_bytes = self.held_bytes - held.bytes.len() + bytes.len();
            held.bytes = bytes.to_vec();
            held.truncated = truncated;
            held.meta = meta;
        }
        while self.held_bytes > lim.bytes || self.held.len() > lim.chunks {
            if !self.skip_to_first_held(f) {
                break;
            }
        }
    }

    /// Declares every remaining hole a gap and delivers all held data.
    pub fn flush(&mut self, f: &mut impl FnMut(Seg<'_>)) {
        while self.skip_to_first_held(f) {}
    }

    fn deliver(
        &mut self,
        bytes: &[u8],
        truncated: u32,
        meta: ChunkMeta,
        f: &mut impl FnMut(Seg<'_>),
    ) {
        if !bytes.is_empty() {
            self.next = self.next.saturating_add(bytes.len() as u64);
            f(Seg::Data(bytes, meta));
        }
        if truncated > 0 {
            let offset = self.next;
            self.next = self.next.saturating_add(u64::from(truncated));
            f(Seg::Gap {
                offset,
                len: u64::from(truncated),
                meta,
            });
        }
    }

    /// Delivers held chunks that are now in order (trimming overlaps, dropping duplicates).
    fn drain_ready(&mut self, f: &mut impl FnMut(Seg<'_>)) {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() > self.next {
                break;
            }
            let seq = *entry.key();
            let h = entry.remove();
            self.held_bytes -= h.bytes.len();
            let end = seq.saturating_add(h.bytes.len() as u64);
            if end < self.next || (end == self.next && h.truncated == 0) {
                continue; // duplicate of delivered bytes
            }
            let skip = usize::try_from(self.next - seq).unwrap_or(usize::MAX);
            self.deliver(
                h.bytes.get(skip..).unwrap_or_default(),
                h.truncated,
                h.meta,
                f,
            );
        }
    }

    /// Declares the hole before the first held chunk a gap; false if nothing is held.
    fn skip_to_first_held(&mut self, f: &mut impl FnMut(Seg<'_>)) -> bool {
        let Some((&seq, h)) = self.held.first_key_value() else {
            return false;
        };
        if seq > self.next {
            let offset = self.next;
            self.next = seq;
            f(Seg::Gap {
                offset,
                len: seq - offset,
                meta: h.meta,
            });
        }
        self.drain_ready(f);
        true
    }
}
