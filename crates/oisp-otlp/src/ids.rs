//! Deterministic trace and span ids derived from OISP ids, so that replaying a capture exports
//! the same trace tree and log ↔ span links survive restarts.
//!
//! - An AI call's span id is `SHA-256("oisp-otlp/span\0" || request_id)[..8]`.
//! - Its trace id comes from the request's `trace_context.trace_id` when the event carries a
//!   valid one (and `trace_context.span_id` becomes the span's parent); otherwise
//!   `SHA-256("oisp-otlp/trace\0" || conversation_id)[..16]`, so all calls of one conversation
//!   share a trace (the request id stands in when there is no conversation id).
//! - A tool call's span id is `SHA-256("oisp-otlp/tool\0" || call_id or event_id)[..8]`.
//!
//! - Events the decoder placed in an agent session carry their own span, its parent and the
//!   session's trace in `trace_context` (`span_id` + `parent_span_id`, ids from
//!   `oisp_event::trace`); those are used as they are ([`own_span`]).
//!
//! All-zero ids are invalid in OTLP; the (astronomically unlikely) zero digest is nudged to 1.

use oisp_event::TraceContext;
use sha2::{Digest, Sha256};

pub type TraceId = [u8; 16];
pub type SpanId = [u8; 8];

fn digest(domain: &str, seed: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(domain.as_bytes())
        .chain_update([0u8])
        .chain_update(seed.as_bytes())
        .finalize()
        .into()
}

fn nonzero<const N: usize>(mut id: [u8; N]) -> [u8; N] {
    if id.iter().all(|b| *b == 0) {
        id[N - 1] = 1;
    }
    id
}

/// A trace id for `seed` (conversation or request id).
pub fn trace_id(seed: &str) -> TraceId {
    let d = digest("oisp-otlp/trace", seed);
    nonzero(d[..16].try_into().expect("16 of 32 bytes"))
}

/// A span id for `seed` in `domain` (`span` for AI calls, `tool` for tool calls).
pub fn span_id(domain: &str, seed: &str) -> SpanId {
    let d = digest(&format!("oisp-otlp/{domain}"), seed);
    nonzero(d[..8].try_into().expect("8 of 32 bytes"))
}

fn hex_bytes<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    (out.iter().any(|b| *b != 0)).then_some(out)
}

/// The span an event of an agent session belongs to, as the sensor's decoder assigns it
/// (`oisp_event::trace`): (`trace_id`, `span_id`, `parent_span_id`) when the first two are
/// valid; the parent is `None` for a session's root span.
pub fn own_span(tc: Option<&TraceContext>) -> Option<(TraceId, SpanId, Option<SpanId>)> {
    let tc = tc?;
    let trace = hex_bytes::<16>(tc.trace_id.as_deref()?)?;
    let span = hex_bytes::<8>(tc.span_id.as_deref()?)?;
    Some((
        trace,
        span,
        tc.parent_span_id.as_deref().and_then(hex_bytes::<8>),
    ))
}

/// The valid (`trace_id`, `span_id`) an event carries in `trace_context`, if any.
pub fn from_context(tc: Option<&TraceContext>) -> Option<(TraceId, Option<SpanId>)> {
    let tc = tc?;
    let trace = hex_bytes::<16>(tc.trace_id.as_deref()?)?;
    Some((trace, tc.span_id.as_deref().and_then(hex_bytes::<8>)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_context_is_validated() {
        assert_eq!(trace_id("conv_1"), trace_id("conv_1"));
        assert_ne!(trace_id("conv_1"), trace_id("conv_2"));
        assert_ne!(span_id("span", "r"), span_id("tool", "r"));
        let tc = TraceContext {
            trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
            span_id: Some("b7ad6b7169203331".into()),
            trace_flags: Some(1),
            parent_span_id: None,
        };
        let (t, s) = from_context(Some(&tc)).unwrap();
        assert_eq!(t[0], 0x0a);
        assert_eq!(s.unwrap()[7], 0x31);
        let bad = TraceContext {
            trace_id: Some("00000000000000000000000000000000".into()),
            ..tc.clone()
        };
        assert!(from_context(Some(&bad)).is_none());
        let short = TraceContext {
            trace_id: Some("abc".into()),
            ..tc
        };
        assert!(from_context(Some(&short)).is_none());
    }
}
