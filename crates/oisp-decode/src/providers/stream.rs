//! Accumulation of streamed choices (text, reasoning and tool-call deltas) into final choices.

use super::call::{AiCall, Choice, FinishReason, Role, ToolCall};
use super::common::ToolAcc;
use oisp_capture::Timestamp;

/// One choice being assembled from deltas.
#[derive(Default)]
pub(crate) struct ChoiceAcc {
    pub role: Option<Role>,
    pub text: Option<String>,
    pub reasoning: Option<String>,
    pub tools: ToolAcc,
    /// Map from tool-call id to key, for streams that omit the tool index.
    pub ids: Vec<(String, u64)>,
    pub last_key: Option<u64>,
    pub finish_raw: Option<String>,
}

impl ChoiceAcc {
    pub fn push_text(&mut self, t: &str) {
        self.text.get_or_insert_with(String::new).push_str(t);
    }

    pub fn push_reasoning(&mut self, t: &str) {
        self.reasoning.get_or_insert_with(String::new).push_str(t);
    }

    /// The tool call a delta belongs to: by index when given, else by id, else the last one.
    pub fn tool(&mut self, index: Option<u64>, id: Option<&str>) -> &mut ToolCall {
        let key = match (index, id) {
            (Some(i), _) => i,
            (None, Some(id)) => match self.ids.iter().find(|(x, _)| x == id) {
                Some((_, k)) => *k,
                None => {
                    let k = (1u64 << 40) + self.ids.len() as u64;
                    self.ids.push((id.to_string(), k));
                    k
                }
            },
            (None, None) => self.last_key.unwrap_or(0),
        };
        self.last_key = Some(key);
        self.tools.entry(key)
    }

    pub fn into_choice(self, index: u32) -> Choice {
        let raw = self.finish_raw;
        Choice {
            index,
            role: self.role,
            text: self.text,
            reasoning: self.reasoning,
            tool_calls: self.tools.into_calls(),
            finish_reason: raw.as_deref().map(FinishReason::from_provider),
            raw_finish_reason: raw,
        }
    }
}

/// Choices keyed by their index, in first-seen order (indices are not trusted as positions).
#[derive(Default)]
pub(crate) struct ChoicesAcc {
    pub items: Vec<(u64, ChoiceAcc)>,
}

impl ChoicesAcc {
    pub fn get(&mut self, index: u64) -> &mut ChoiceAcc {
        let i = match self.items.iter().position(|(k, _)| *k == index) {
            Some(i) => i,
            None => {
                self.items.push((index, ChoiceAcc::default()));
                self.items.len() - 1
            }
        };
        &mut self.items[i].1
    }

    pub fn any_finished(&self) -> bool {
        self.items.iter().any(|(_, c)| c.finish_raw.is_some())
    }

    pub fn into_choices(self) -> Vec<Choice> {
        self.items
            .into_iter()
            .map(|(k, c)| c.into_choice(k.min(u32::MAX as u64) as u32))
            .collect()
    }
}

/// Records the first output-carrying chunk time.
pub(crate) fn mark_first_token(call: &mut AiCall, ts: Timestamp) {
    if call.timing.first_token.is_none() {
        call.timing.first_token = Some(ts);
    }
}
