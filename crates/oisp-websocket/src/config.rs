//! `[websocket]` of `config.toml` (`deny_unknown_fields`: a typo is an error with its line).

use oisp_sinks::FilterConfig;
use serde::Deserialize;

/// `[websocket]`: a live event stream for UIs at `ws://LISTEN/events`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebSocketConfig {
    /// Default `127.0.0.1:7879` (loopback only unless you say otherwise).
    pub listen: String,
    pub filter: Option<FilterConfig>,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            listen: "127.0.0.1:7879".into(),
            filter: None,
        }
    }
}
