//! [`DecodeStats`]: the decoder's counters.

use crate::conn::TrackerStats;

/// Counters over the decoder's life (all monotonic).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    pub records: u64,
    pub events: u64,
    pub exchanges: u64,
    pub ai_calls: u64,
    /// HTTP exchanges that were not AI model calls (other HTTPS traffic, model listings, ...).
    pub non_ai_exchanges: u64,
    /// Exchanges skipped because they were observed from the server side.
    pub server_side_exchanges: u64,
    /// Connection warnings (`closed_mid_request`, `no_response`, `stream_gap`, ...) not reported
    /// because they were raised on the server side of a connection (see
    /// [`DecoderConfig::include_server_side`]).
    pub server_side_warnings: u64,
    /// Client connections found to carry no AI traffic and handed out by
    /// [`Decoder::drain_ignorable`] (see [`IGNORE_AFTER`] for the rule).
    pub ignorable_conns: u64,
    /// Records of ignorable connections dropped unread.
    pub ignored_records: u64,
    /// Connections known only from their ClientHello whose reads and writes were followed to
    /// estimate AI calls (`network.flow` events with `attrs.ai_estimate`).
    pub metadata_flows: u64,
    /// Connections followed for their metadata that a hooked TLS stack turned out to read
    /// (dropped: their calls are decoded, not estimated).
    pub metadata_flows_covered: u64,
    /// Turns of WebSocket APIs (Realtime, Responses over WebSocket) handed to the providers
    /// (each counted in `exchanges` too).
    pub ws_turns: u64,
    /// WebSocket messages that are part of no call (no known API on the connection, binary,
    /// not JSON, unknown `type`).
    pub ws_unmatched_messages: u64,
    pub warnings: u64,
    /// Records the capture source reported lost (`Lost` records).
    pub lost_records: u64,
    /// Agent sessions started (`agent.session` start events).
    pub agent_sessions: u64,
    pub tracker: TrackerStats,
}

impl std::ops::AddAssign for DecodeStats {
    /// Adds up the counters of two decoders (e.g. two captures).
    fn add_assign(&mut self, s: DecodeStats) {
        self.records += s.records;
        self.events += s.events;
        self.exchanges += s.exchanges;
        self.ai_calls += s.ai_calls;
        self.non_ai_exchanges += s.non_ai_exchanges;
        self.server_side_exchanges += s.server_side_exchanges;
        self.server_side_warnings += s.server_side_warnings;
        self.ignorable_conns += s.ignorable_conns;
        self.ignored_records += s.ignored_records;
        self.metadata_flows += s.metadata_flows;
        self.metadata_flows_covered += s.metadata_flows_covered;
        self.ws_turns += s.ws_turns;
        self.ws_unmatched_messages += s.ws_unmatched_messages;
        self.warnings += s.warnings;
        self.lost_records += s.lost_records;
        self.agent_sessions += s.agent_sessions;
        self.tracker += s.tracker;
    }
}
