//! The AI-level estimates of a metadata-only flow: a `network.flow` event whose `attrs.ai_estimate`
//! the decoder wrote for a connection to an AI provider that nothing could read (calls, streaming,
//! approximate tokens, from sizes and timing). Read back here for `show`, `analyze` and the
//! provider selection, always apart from decoded calls: an estimate is never an `ai.*` event and
//! its tokens are never added to decoded usage.

use oisp_event::{Event, EventData};
use serde_json::Value;

/// What one metadata-only flow is estimated to have carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowEstimate {
    /// OISP provider name (`openai`, `anthropic`, …, `other`).
    pub provider: String,
    /// The specific provider the sensor recognised (`deepseek`), when it differs.
    pub provider_name: Option<String>,
    pub calls: u64,
    pub streaming_calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// The estimates of `ev`, when it is a `network.flow` carrying them; `None` otherwise (also for
/// an `ai_estimate` that is not an object or names no provider).
pub fn flow_estimate(ev: &Event) -> Option<FlowEstimate> {
    let EventData::NetworkFlow(_) = &ev.data else {
        return None;
    };
    let est = ev.attrs.as_ref()?.get("ai_estimate")?.as_object()?;
    let n = |k: &str| est.get(k).and_then(Value::as_u64).unwrap_or(0);
    let provider = est.get("provider")?.as_str()?.to_string();
    let provider_name = est
        .get("provider_name")
        .and_then(Value::as_str)
        .filter(|p| *p != provider && *p != "unknown")
        .map(str::to_string);
    Some(FlowEstimate {
        provider,
        provider_name,
        calls: n("calls"),
        streaming_calls: n("streaming_calls"),
        input_tokens: n("input_tokens"),
        output_tokens: n("output_tokens"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oisp_event::{Endpoint, NetworkFlow, Timestamp};

    fn flow(attrs: Option<Value>) -> Event {
        let mut ev = Event::new(
            NetworkFlow {
                dest: Endpoint::default(),
                ..Default::default()
            },
            Timestamp::new(1_700_000_000_000_000_000, 1),
            "01JDTEST0000000000000000AA",
        );
        if let Some(a) = attrs {
            ev = ev.with_attr("ai_estimate", a);
        }
        ev
    }

    #[test]
    fn reads_the_estimates_of_a_flow_and_nothing_else() {
        let ev = flow(Some(serde_json::json!({
            "provider": "other", "provider_name": "deepseek", "calls": 3,
            "streaming_calls": 1, "input_tokens": 900, "output_tokens": 40,
        })));
        let e = flow_estimate(&ev).unwrap();
        assert_eq!(
            (e.provider.as_str(), e.provider_name.as_deref()),
            ("other", Some("deepseek"))
        );
        assert_eq!(
            (e.calls, e.streaming_calls, e.input_tokens, e.output_tokens),
            (3, 1, 900, 40)
        );
        assert_eq!(flow_estimate(&flow(None)), None);
        assert_eq!(flow_estimate(&flow(Some(Value::from("x")))), None);
        assert_eq!(
            flow_estimate(&flow(Some(serde_json::json!({"calls": 2})))),
            None
        );
    }
}
