//! Deterministic W3C trace and span ids for `trace_context`.
//!
//! The decoder gives every event of an agent session a `trace_context` whose ids are derived
//! from OISP ids, so that decoding the same capture twice gives the same trace tree and the OTLP
//! exporter can rebuild it without remembering anything:
//!
//! - a session's trace id is `SHA-256("oisp/trace\0" || session_id)[..16]`;
//! - the span an event opens (a session start, an AI request, a tool call, an exec, a file
//!   write, a connect) has id `SHA-256("oisp/span\0" || event_id)[..8]`; events that close a
//!   span (a response, a tool result, a session end) carry the id of the span they close.
//!
//! Ids are lowercase hex (32 and 16 characters) and never all zero.

use sha2::{Digest, Sha256};

fn digest(domain: &str, seed: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(domain.as_bytes())
        .chain_update([0u8])
        .chain_update(seed.as_bytes())
        .finalize()
        .into()
}

fn hex_nonzero(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    if bytes.iter().all(|b| *b == 0) {
        out.pop();
        out.push('1');
    }
    out
}

/// The trace id of the agent session `session_id` (32 hex characters).
pub fn trace_id_for(session_id: &str) -> String {
    hex_nonzero(&digest("oisp/trace", session_id)[..16])
}

/// The id of the span opened by the event `event_id` (16 hex characters).
pub fn span_id_for(event_id: &str) -> String {
    hex_nonzero(&digest("oisp/span", event_id)[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_hex_of_the_w3c_sizes() {
        let t = trace_id_for("ses_1");
        assert_eq!(t.len(), 32);
        assert_eq!(t, trace_id_for("ses_1"));
        assert_ne!(t, trace_id_for("ses_2"));
        let s = span_id_for("01JABC");
        assert_eq!(s.len(), 16);
        assert!(s
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(s, span_id_for("01JABD"));
    }
}
