//! Links tool results carried by later requests to the tool calls an assistant emitted earlier.
//!
//! Every follow-up request of a conversation repeats earlier tool results; a result is reported
//! once per call id. Bounded: at most [`MAX_CALLS`] call ids are remembered (oldest forgotten).

use oisp_capture::Timestamp;
use std::collections::{HashMap, VecDeque};

pub const MAX_CALLS: usize = 16_384;

/// What is remembered about one tool call.
#[derive(Debug, Clone)]
pub struct KnownCall {
    pub event_id: String,
    pub name: Option<String>,
    /// When the response carrying the call ended (start of tool execution).
    pub issued: Timestamp,
    pub result_reported: bool,
}

#[derive(Debug, Default)]
pub struct ToolCallIndex {
    calls: HashMap<(u32, String), KnownCall>,
    order: VecDeque<(u32, String)>,
}

impl ToolCallIndex {
    /// Remembers a tool call made to process `pid` (call ids are only unique per client).
    pub fn record_call(&mut self, pid: u32, call_id: &str, call: KnownCall) {
        let key = (pid, call_id.to_string());
        if self.calls.insert(key.clone(), call).is_none() {
            self.order.push_back(key);
            while self.order.len() > MAX_CALLS {
                if let Some(old) = self.order.pop_front() {
                    self.calls.remove(&old);
                }
            }
        }
    }

    /// Claims the right to report the result of `call_id`: `Some(call)` the first time (with
    /// what is known of the call, if it was seen), `None` when it was already reported.
    pub fn claim_result(&mut self, pid: u32, call_id: &str) -> Option<Option<KnownCall>> {
        let key = (pid, call_id.to_string());
        match self.calls.get_mut(&key) {
            Some(c) if c.result_reported => None,
            Some(c) => {
                c.result_reported = true;
                Some(Some(c.clone()))
            }
            None => {
                // Never saw the call (capture began later): remember the result was reported.
                self.record_call(
                    pid,
                    call_id,
                    KnownCall {
                        event_id: String::new(),
                        name: None,
                        issued: Timestamp::default(),
                        result_reported: true,
                    },
                );
                Some(None)
            }
        }
    }
}
