//! Conversation ids: requests of one process that share a system prompt and first user message
//! belong to one conversation, until it has been idle for [`IDLE_NS`].

use super::hashing::short_hash;
use oisp_capture::Timestamp;
use std::collections::HashMap;

/// A conversation idle for longer than this starts anew (30 minutes).
pub const IDLE_NS: u64 = 30 * 60 * 1_000_000_000;
const MAX_CONVERSATIONS: usize = 16_384;

#[derive(Debug, Default)]
pub struct Conversations {
    open: HashMap<String, (String, Timestamp)>,
}

impl Conversations {
    /// The conversation id for a request of `pid` whose opening is `anchor` (system prompt plus
    /// first user message) at time `ts`. Deterministic: the id derives from the key and the time
    /// the conversation started.
    pub fn id_for(&mut self, pid: u32, anchor: &str, ts: Timestamp) -> String {
        let key = format!("{pid}\u{0}{}", short_hash(anchor.as_bytes()));
        if let Some((id, last)) = self.open.get_mut(&key) {
            if ts.mono_ns.saturating_sub(last.mono_ns) <= IDLE_NS {
                *last = ts;
                return id.clone();
            }
        }
        if self.open.len() >= MAX_CONVERSATIONS {
            let cutoff = ts.mono_ns.saturating_sub(IDLE_NS);
            self.open.retain(|_, (_, last)| last.mono_ns >= cutoff);
            if self.open.len() >= MAX_CONVERSATIONS {
                self.open.clear();
            }
        }
        let seed = format!("{key}\u{0}{}", ts.wall_ns);
        let id = format!(
            "conv_{}",
            oisp_event::event_id_from(ts.wall_ns, seed.as_bytes())
        );
        self.open.insert(key, (id.clone(), ts));
        id
    }
}
