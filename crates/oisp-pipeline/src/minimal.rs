//! The `minimal` redaction profile: metadata only. Every piece of content (prompts, responses,
//! tool arguments and results, reasoning) is replaced by its length and hash, so calls stay
//! countable and correlatable but nothing said is kept.

use oisp_event::{
    AiRequest, AiResponse, Content, Event, EventData, Message, RedactedContent, ToolArguments,
};
use sha2::{Digest, Sha256};

/// Name of the profile, as written into `confidence.redaction_profile`.
pub const PROFILE: &str = "minimal";

fn hash(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    format!("sha256:{}", hex::encode(&d[..8]))
}

fn marker(text: &str) -> Content {
    let mut m = RedactedContent::new("policy");
    m.redacted.original_length = Some(text.chars().count() as u64);
    m.redacted.hash = Some(hash(text.as_bytes()));
    m.redacted.redaction_profile = Some(PROFILE.to_string());
    Content::Redacted(m)
}

fn message(m: &mut Message) {
    if let Some(Content::Text(t)) = &m.content {
        m.content_hash = Some(hash(t.as_bytes()));
        m.content_length = Some(t.chars().count() as u64);
        m.content = Some(marker(t));
    }
}

fn request(r: &mut AiRequest) {
    r.messages.iter_mut().flatten().for_each(message);
    for t in r.tools.iter_mut().flatten() {
        t.description = None;
    }
}

fn response(r: &mut AiResponse) {
    for c in r.choices.iter_mut().flatten() {
        if let Some(m) = c.message.as_mut() {
            message(m);
        }
    }
    for tc in r.tool_calls.iter_mut().flatten() {
        // A redaction marker is not a valid `arguments` value in the v0.1 schema (it matches two
        // of its `oneOf` branches): drop the arguments and keep their hash.
        if let Some(ToolArguments::Text(t)) = &tc.arguments {
            tc.arguments_hash.get_or_insert_with(|| hash(t.as_bytes()));
        }
        tc.arguments = None;
    }
    if let Some(e) = r.error.as_mut() {
        e.message = e
            .message
            .as_ref()
            .map(|m| format!("[{} chars]", m.chars().count()));
    }
}

/// Strips content from `ev` in place. Returns whether anything was removed.
pub fn apply(ev: &mut Event) -> bool {
    let mut changed = true;
    match &mut ev.data {
        EventData::AiRequest(r) => request(r),
        EventData::AiResponse(r) => response(r),
        EventData::AgentToolCall(c) => {
            if let Some(args) = c.arguments.take() {
                let text = serde_json::Value::Object(args).to_string();
                c.arguments_hash
                    .get_or_insert_with(|| hash(text.as_bytes()));
            }
        }
        EventData::AgentToolResult(r) => {
            if let Some(v) = r.result.take() {
                let text = serde_json::to_string(&v).unwrap_or_default();
                r.result_hash.get_or_insert_with(|| hash(text.as_bytes()));
                r.result_size_bytes.get_or_insert(text.len() as u64);
            }
        }
        _ => changed = false,
    }
    if let Some(attrs) = ev.attrs.as_mut() {
        changed |= attrs.remove("reasoning").is_some();
    }
    changed
}
