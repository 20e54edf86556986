//! The `minimal` redaction profile: metadata only. Every piece of content (prompts, responses,
//! tool arguments and results, reasoning, command-line arguments, exec environments) is replaced
//! by its length and hash, so calls stay countable and correlatable but nothing said is kept.

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

/// A command line keeps its program; the arguments (which can hold a prompt, e.g. `curl -d`)
/// become their length and hash.
fn command_line(s: &mut String) -> bool {
    let trimmed = s.trim_start();
    let Some((program, rest)) = trimmed.split_once(char::is_whitespace) else {
        return false;
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return false;
    }
    *s = format!(
        "{program} [arguments: {} chars {}]",
        rest.chars().count(),
        hash(rest.as_bytes())
    );
    true
}

fn arg_list(args: &mut Vec<String>) -> bool {
    if args.len() <= 1 {
        return false;
    }
    let rest = args[1..].join(" ");
    args.truncate(1);
    args.push(format!(
        "[arguments: {} chars {}]",
        rest.chars().count(),
        hash(rest.as_bytes())
    ));
    true
}

/// Command lines and environments of the event's process (and its parent, and a process.exec).
fn process(ev: &mut Event) -> bool {
    let mut changed = false;
    if let Some(p) = ev.process.as_mut() {
        if let Some(c) = p.cmdline.as_mut() {
            changed |= command_line(c);
        }
        if let Some(a) = p.cmdline_args.as_mut() {
            changed |= arg_list(a);
        }
        if let Some(c) = p.parent.as_mut().and_then(|pp| pp.cmdline.as_mut()) {
            changed |= command_line(c);
        }
    }
    if let EventData::ProcessExec(x) = &mut ev.data {
        if let Some(a) = x.args.as_mut() {
            changed |= arg_list(a);
        }
        changed |= x.env.take().is_some();
    }
    changed
}

/// Strips content from `ev` in place. Returns whether anything was removed.
pub fn apply(ev: &mut Event) -> bool {
    let mut changed = process(ev);
    match &mut ev.data {
        EventData::AiRequest(r) => {
            request(r);
            changed = true;
        }
        EventData::AiResponse(r) => {
            response(r);
            changed = true;
        }
        EventData::AgentToolCall(c) => {
            if let Some(args) = c.arguments.take() {
                let text = serde_json::Value::Object(args).to_string();
                c.arguments_hash
                    .get_or_insert_with(|| hash(text.as_bytes()));
                changed = true;
            }
        }
        EventData::AgentToolResult(r) => {
            if let Some(v) = r.result.take() {
                let text = serde_json::to_string(&v).unwrap_or_default();
                r.result_hash.get_or_insert_with(|| hash(text.as_bytes()));
                r.result_size_bytes.get_or_insert(text.len() as u64);
                changed = true;
            }
        }
        _ => {}
    }
    if let Some(attrs) = ev.attrs.as_mut() {
        changed |= attrs.remove("reasoning").is_some();
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_keep_the_program_only() {
        let mut ev: Event = serde_json::from_str(include_str!(
            "../../../vendor/oisp-spec/examples/process-exec.json"
        ))
        .unwrap();
        let p = ev.process.get_or_insert_with(Default::default);
        p.cmdline = Some("curl -d {\"prompt\":\"my secret plan\"} https://api.openai.com".into());
        p.cmdline_args = Some(vec!["curl".into(), "-d".into(), "my secret plan".into()]);
        if let EventData::ProcessExec(x) = &mut ev.data {
            x.args = Some(vec![
                "python3".into(),
                "agent.py".into(),
                "my secret plan".into(),
            ]);
        }
        assert!(apply(&mut ev));
        let text = serde_json::to_string(&ev).unwrap();
        assert!(!text.contains("secret plan"), "{text}");
        let p = ev.process.as_ref().unwrap();
        assert!(p
            .cmdline
            .as_deref()
            .unwrap()
            .starts_with("curl [arguments: "));
        assert_eq!(p.cmdline_args.as_ref().unwrap()[0], "curl");
        let EventData::ProcessExec(x) = &ev.data else {
            panic!()
        };
        assert_eq!(x.args.as_ref().unwrap().len(), 2);
        assert!(x.env.is_none());
    }
}
