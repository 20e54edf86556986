//! `oisp-sensor demo`: decode the captures bundled in the binary.
//!
//! The captures were recorded from real clients (official OpenAI/Anthropic SDKs, the OpenAI npm
//! SDK, curl over HTTP/1.1 and HTTP/2) talking to the project's mock provider; see
//! `fixtures/captures/README.md`. Nothing here is hand-written: every event comes from decoding.

use crate::cli::{exit, DemoArgs};
use crate::events_io::{default_events_path, open_output};
use crate::pipeline::Pipeline;
use anyhow::Result;

/// (name, raw capture bytes), in the order they are replayed.
pub const BUNDLED: &[(&str, &[u8])] = &[
    (
        "openai-python",
        include_bytes!("../../../../fixtures/captures/openai-python.oraw"),
    ),
    (
        "anthropic-python",
        include_bytes!("../../../../fixtures/captures/anthropic-python.oraw"),
    ),
    (
        "openai-node",
        include_bytes!("../../../../fixtures/captures/openai-node.oraw"),
    ),
    (
        "curl-h1",
        include_bytes!("../../../../fixtures/captures/curl-h1.oraw"),
    ),
    (
        "curl-h2",
        include_bytes!("../../../../fixtures/captures/curl-h2.oraw"),
    ),
    (
        "gemini-curl",
        include_bytes!("../../../../fixtures/captures/gemini-curl.oraw"),
    ),
    (
        "ollama-curl",
        include_bytes!("../../../../fixtures/captures/ollama-curl.oraw"),
    ),
    (
        "compat-curl",
        include_bytes!("../../../../fixtures/captures/compat-curl.oraw"),
    ),
    (
        "keepalive-concurrent",
        include_bytes!("../../../../fixtures/captures/keepalive-concurrent.oraw"),
    ),
];

pub fn run(args: &DemoArgs) -> Result<i32> {
    let path = args.output.clone().unwrap_or_else(default_events_path);
    let mut out = open_output(&path)?;
    let mut p = Pipeline::new(&mut *out, args.redact.redactor());
    for (name, bytes) in BUNDLED {
        p.push_raw(*bytes, name)?;
        p.finish()?;
    }
    let s = p.stats();
    let dest = if path.as_os_str() == "-" {
        "standard output".to_string()
    } else {
        path.display().to_string()
    };
    eprintln!(
        "oisp-sensor demo: decoded {} bundled captures ({} records) into {} events: {} AI calls, {} warnings → {dest}",
        BUNDLED.len(),
        s.records,
        p.events_written(),
        s.ai_calls,
        s.warnings,
    );
    if path.as_os_str() != "-" {
        eprintln!("see them with: oisp-sensor show -i {dest}   (or analyze --report costs)");
    }
    Ok(exit::OK)
}
