//! The decode engine: `RawRecord`s in, OISP `Event`s out.
//!
//! [`Decoder`] wires the pure stages together — connection tracking and HTTP decoding
//! ([`crate::conn`]), provider decoding ([`crate::providers`]), and the mapping to OISP events —
//! and keeps the small amount of cross-record state they need: a process table (so events name
//! their process), the containers by cgroup (so events name their container and pod), the tool calls awaiting results, and conversation ids. Like the rest of the
//! crate it reads no clock and does no I/O: event ids derive from record timestamps and a
//! counter, so the same records always give byte-identical events.

mod agents;
mod ai;
mod captures;
mod containers;
mod context;
mod conversation;
mod dns;
mod estimate;
mod flows;
mod hashing;
mod hold;
mod ignore;
mod procs;
mod stats;
mod system;
mod tally;
mod tool_kind;
mod tools;

pub use agents::{known_agent, user_text, AgentIdentity, KNOWN_AGENTS};
pub use captures::CaptureDecoder;
pub use context::{redact_query, source_for};
pub use estimate::{estimate, CallEstimate, CallShape, Rules as EstimateRules, Segmenter};
pub use hashing::short_hash;
pub use ignore::{IGNORE_AFTER, MAX_TRACKED as MAX_IGNORE_TRACKED};
pub use procs::{container_id_from_cgroup, ProcessTable};
pub use stats::DecodeStats;
pub use tally::{AiProcesses, ProcessAi, MAX_AI_PROCESSES};
pub use tool_kind::classify_tool;

use crate::conn::{ConnTracker, TrackerConfig};
use crate::http::{HttpExchange, HttpOutput};
use crate::providers;
use context::EventContext;
use oisp_capture::{ConnOpen, ConnRole, DataSource, RawRecord, Timestamp};
use oisp_event::{Event, SensorWarning};
use std::collections::HashMap;

/// How process, file and network records were observed; it decides their events' `source`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SystemRecordOrigin {
    /// Kernel tracepoints (live eBPF capture).
    #[default]
    KernelTracepoints,
    /// Read from /proc by a user-space recorder (the mock provider's fixture recorder).
    Procfs,
}

impl SystemRecordOrigin {
    /// The origin a raw capture's metadata declares: `"system_records": "procfs"`, or a file
    /// written by the mock provider's recorder (which reads processes from /proc). Anything else
    /// is kernel tracepoints.
    pub fn from_capture_meta(meta_json: &str) -> Self {
        let meta: serde_json::Value = serde_json::from_str(meta_json).unwrap_or_default();
        let declared = meta.get("system_records").and_then(|v| v.as_str());
        let by_recorder = meta
            .get("created_by")
            .and_then(|v| v.as_str())
            .is_some_and(|c| c.contains("MockRecorder"));
        if declared == Some("procfs") || (declared.is_none() && by_recorder) {
            SystemRecordOrigin::Procfs
        } else {
            SystemRecordOrigin::KernelTracepoints
        }
    }
}

/// Tunables of the decoder; `Default` gives production values.
#[derive(Debug, Clone, Default)]
pub struct DecoderConfig {
    /// Where process/file/network records came from.
    pub system_records: SystemRecordOrigin,
    pub tracker: TrackerConfig,
    /// Also report exchanges seen from the server side of a connection (a local model server
    /// or test mock), and that side's decoder warnings. Off by default so one call seen by both
    /// ends is reported once, and a server's view (a mock's own sessions closing mid-request,
    /// say) never surfaces as client-side warnings.
    pub include_server_side: bool,
}

/// How long (capture time) a `network.connect` waits for a TLS session on the same connection to
/// name its server (SNI), so the event can carry the destination domain.
pub const CONNECT_DOMAIN_WAIT_NS: u64 = 500_000_000;
/// Most connects held back at once; beyond it the oldest is reported without a domain.
const MAX_PENDING_CONNECTS: usize = 4096;

/// Most connections whose owner is remembered for warnings after they close.
const MAX_CONN_OWNERS: usize = 65_536;

pub struct Decoder {
    cfg: DecoderConfig,
    tracker: ConnTracker,
    procs: ProcessTable,
    containers: containers::ContainerTable,
    tool_calls: tools::ToolCallIndex,
    conversations: conversation::Conversations,
    conn_owner: HashMap<u64, (u32, u32, ConnRole)>,
    http_out: Vec<HttpOutput>,
    ws_calls: providers::ws::WsCalls,
    /// Successful connects waiting for a TLS session's server name (see [`CONNECT_DOMAIN_WAIT_NS`]).
    pending_connects: std::collections::VecDeque<oisp_capture::NetConnect>,
    id_counter: u64,
    stats: DecodeStats,
    ai_processes: AiProcesses,
    ignore: ignore::IgnoreTracker,
    /// Connections followed for their metadata only.
    flows: flows::Flows,
    /// Names DNS answers gave to addresses.
    dns_names: dns::DnsNames,
    agents: agents::AgentTracker,
    /// Client connections with an exchange in flight, and the system events waiting for them.
    inflight: hold::InFlight,
    held: hold::Held,
    /// Scratch buffer for the system events of one record.
    sys_out: Vec<Event>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DecoderConfig::default())
    }
}

impl Decoder {
    pub fn new(cfg: DecoderConfig) -> Self {
        Decoder {
            tracker: ConnTracker::new(cfg.tracker.clone()),
            cfg,
            procs: ProcessTable::default(),
            containers: Default::default(),
            tool_calls: Default::default(),
            conversations: Default::default(),
            conn_owner: HashMap::new(),
            http_out: Vec::new(),
            ws_calls: Default::default(),
            pending_connects: Default::default(),
            id_counter: 0,
            stats: DecodeStats::default(),
            ai_processes: AiProcesses::default(),
            ignore: Default::default(),
            flows: Default::default(),
            dns_names: Default::default(),
            agents: Default::default(),
            inflight: Default::default(),
            held: Default::default(),
            sys_out: Vec::new(),
        }
    }

    /// Decodes one record, appending the events it completes to `out` in order.
    pub fn push(&mut self, rec: &RawRecord, out: &mut Vec<Event>) {
        let before = out.len();
        self.stats.records += 1;
        let now = rec.ts().mono_ns;
        // Process, file and network events go through `sys` (they may have to wait, see
        // `hold`); AI events and warnings go to `out` directly.
        let mut sys = std::mem::take(&mut self.sys_out);
        self.release_connects(Some(now), &mut sys);
        self.offer_system(&mut sys, now, out);
        match rec {
            RawRecord::ProcessExec(e) => {
                let ev = self.exec_event(e);
                sys.push(ev);
            }
            RawRecord::ProcessExit(e) => {
                let ev = self.exit_event(e);
                sys.push(ev);
            }
            RawRecord::ProcessFork(f) => {
                let ev = self.fork_event(f);
                sys.push(ev);
            }
            RawRecord::File(f) => {
                let ev = self.file_event(f);
                sys.push(ev);
            }
            RawRecord::NetConnect(n) => {
                // A failed connect carries no TLS session: report it at once.
                let failed = n.result.is_some_and(|r| r < 0 && r != -115);
                if failed {
                    let ev = self.connect_event(n, None);
                    sys.push(ev);
                } else {
                    if self.pending_connects.len() >= MAX_PENDING_CONNECTS {
                        if let Some(old) = self.pending_connects.pop_front() {
                            let ev = self.connect_event(&old, None);
                            sys.push(ev);
                        }
                    }
                    self.pending_connects.push_back(n.clone());
                }
            }
            RawRecord::Lost(l) => {
                self.stats.lost_records = self.stats.lost_records.saturating_add(l.count);
                let w = SensorWarning::new(
                    "records_lost",
                    format!("the capture lost {} records ({})", l.count, l.origin),
                )
                .with_detail("count", l.count)
                .with_detail("origin", l.origin.clone());
                out.push(self.warning_event(w, l.ts, None));
            }
            RawRecord::ConnOpen(o) => {
                if let (Some(sni), Some(remote)) = (o.sni.as_deref(), o.remote) {
                    let waiting = self
                        .pending_connects
                        .iter()
                        .position(|n| n.pid == o.pid && n.remote == remote);
                    if let Some(n) = waiting.and_then(|i| self.pending_connects.remove(i)) {
                        let ev = self.connect_event(&n, Some(sni));
                        sys.push(ev);
                    }
                }
                self.offer_system(&mut sys, now, out);
                if o.source == DataSource::ClientHello {
                    // metadata only: no data follows, nothing to reassemble
                    self.count_tls_to(o);
                    self.flows.open(o);
                } else {
                    if o.role != ConnRole::Server {
                        self.flows.content_open(o);
                    }
                    self.remember_owner(o.conn_id, o.pid, o.tid, o.role);
                    self.feed_tracker(rec, out);
                }
            }
            RawRecord::Data(d) if self.ignore.is_ignored(d.conn_id) => {
                self.stats.ignored_records += 1;
            }
            RawRecord::Data(d) => {
                if !self.conn_owner.contains_key(&d.conn_id) {
                    self.remember_owner(d.conn_id, d.pid, d.tid, ConnRole::Unknown);
                }
                self.feed_tracker(rec, out);
                self.note_in_flight(d.conn_id);
            }
            RawRecord::FlowActivity(a) => self.flows.activity(a),
            RawRecord::DnsMessage(m) => {
                if let Some(ev) = self.dns_event(m) {
                    sys.push(ev);
                }
            }
            RawRecord::Container(c) => self.containers.learn(c),
            RawRecord::ConnClose(c) => match self.flows.close(c.conn_id) {
                Some(f) => {
                    if f.followed() {
                        let ev = self.flow_event(&f, Some(c.ts));
                        self.stats.metadata_flows += 1;
                        sys.push(ev);
                    }
                }
                None => {
                    self.ignore.closed(c.conn_id);
                    self.feed_tracker(rec, out);
                    self.inflight.closed(c.conn_id);
                }
            },
        }
        self.offer_system(&mut sys, now, out);
        self.sys_out = sys;
        self.held
            .release(Some(now), &self.procs, &self.inflight, out);
        self.sessions_over(before, out);
        self.fill_hosts(&mut out[before..]);
        self.stats.events += (out.len() - before) as u64;
    }

    /// Moves the system events of `sys` to `out`, or to the held queue when their process
    /// waits for an exchange in flight (see [`hold`]).
    fn offer_system(&mut self, sys: &mut Vec<Event>, now: u64, out: &mut Vec<Event>) {
        if !sys.is_empty() {
            let fresh = std::mem::take(sys);
            self.held
                .offer(fresh, now, &self.procs, &self.inflight, out);
        }
    }

    /// Runs the events from `out[before..]` through the agent-session stage.
    fn sessions_over(&mut self, before: usize, out: &mut Vec<Event>) {
        if out.len() > before {
            let fresh = out.split_off(before);
            self.agents.process(&self.procs, fresh, out);
        }
    }

    /// Records whether client connection `conn_id` has an exchange in flight now.
    fn note_in_flight(&mut self, conn_id: u64) {
        if let Some(&(pid, _, role)) = self.conn_owner.get(&conn_id) {
            if role != ConnRole::Server {
                let pending = self.tracker.pending_of(conn_id);
                self.inflight.update(conn_id, pid, pending);
            }
        }
    }

    /// End of capture: flushes every open connection and appends the resulting events.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        let before = out.len();
        let mut sys = std::mem::take(&mut self.sys_out);
        self.release_connects(None, &mut sys);
        for f in self
            .flows
            .finish()
            .into_iter()
            .filter(flows::Flow::followed)
        {
            let ev = self.flow_event(&f, None);
            self.stats.metadata_flows += 1;
            sys.push(ev);
        }
        out.append(&mut sys);
        self.sys_out = sys;
        let mut http = std::mem::take(&mut self.http_out);
        http.clear();
        http.extend(self.tracker.finish());
        self.handle_http(&mut http, out);
        self.http_out = http;
        self.inflight = Default::default();
        self.held.release(None, &self.procs, &self.inflight, out);
        self.sessions_over(before, out);
        self.agents.finish(&self.procs, out);
        self.fill_hosts(&mut out[before..]);
        self.stats.events += (out.len() - before) as u64;
    }

    /// Counters so far.
    /// The processes that made AI calls so far (for `status`).
    pub fn ai_processes(&self) -> Vec<ProcessAi> {
        self.ai_processes.list()
    }

    pub fn stats(&self) -> DecodeStats {
        DecodeStats {
            tracker: self.tracker.stats(),
            ws_unmatched_messages: self.ws_calls.unmatched(),
            agent_sessions: self.agents.sessions_started(),
            metadata_flows_covered: self.flows.covered,
            ..self.stats
        }
    }

    /// Moves into `out` the ids of client connections found to carry no AI traffic since the
    /// last call (each id once; the rule is documented at [`IGNORE_AFTER`]). The decoder drops
    /// their later records unread and forgets what it held of them, so a capture source may
    /// stop delivering their data (`oisp_ebpf::EbpfCapture::ignore_connection`). A connection
    /// whose host or any exchange looked AI-ish is never handed out.
    pub fn drain_ignorable(&mut self, out: &mut Vec<u64>) {
        let start = out.len();
        self.ignore.drain(out);
        for &id in &out[start..] {
            self.tracker.forget(id);
            self.inflight.closed(id);
        }
        self.stats.ignorable_conns += (out.len() - start) as u64;
        // connections known from their ClientHello, to a server that is no AI provider's: the
        // source may stop following their reads and writes
        self.flows.drain_unwanted(out);
    }

    /// Connections still open (and their protocol state), for status displays.
    pub fn connections(&self) -> Vec<crate::conn::ConnProgress> {
        self.tracker.in_progress()
    }

    /// Reports held-back connects whose wait is over at capture time `now_mono` (all of them
    /// when `None`), without a domain.
    fn release_connects(&mut self, now_mono: Option<u64>, out: &mut Vec<Event>) {
        while let Some(n) = self.pending_connects.front() {
            let due = now_mono
                .is_none_or(|now| now >= n.ts.mono_ns.saturating_add(CONNECT_DOMAIN_WAIT_NS));
            if !due {
                break;
            }
            if let Some(n) = self.pending_connects.pop_front() {
                let ev = self.connect_event(&n, None);
                out.push(ev);
            }
        }
    }

    /// A TLS connection seen from its ClientHello: counted for `status` when its server name is
    /// an AI provider's.
    fn count_tls_to(&mut self, o: &ConnOpen) {
        let Some(sni) = o.sni.as_deref() else { return };
        let Some(provider) = providers::provider_for_host(sni) else {
            return;
        };
        let exe = self
            .procs
            .get(o.pid)
            .map(|p| p.image.exe.as_str())
            .filter(|e| !e.is_empty());
        self.ai_processes
            .tls_to(o.pid, exe, sni, provider.oisp_name());
    }

    fn remember_owner(&mut self, conn_id: u64, pid: u32, tid: u32, role: ConnRole) {
        if self.conn_owner.len() >= MAX_CONN_OWNERS && !self.conn_owner.contains_key(&conn_id) {
            self.conn_owner.clear();
        }
        self.conn_owner.insert(conn_id, (pid, tid, role));
    }

    fn feed_tracker(&mut self, rec: &RawRecord, out: &mut Vec<Event>) {
        let mut http = std::mem::take(&mut self.http_out);
        http.clear();
        self.tracker.push_into(rec, &mut http);
        self.handle_http(&mut http, out);
        self.http_out = http;
    }

    fn handle_http(&mut self, http: &mut Vec<HttpOutput>, out: &mut Vec<Event>) {
        for o in http.drain(..) {
            match o {
                HttpOutput::Exchange(ex) => self.exchange(&ex, out),
                HttpOutput::WebSocket(w) => self.websocket(w, out),
                HttpOutput::Warning {
                    conn_id,
                    ts,
                    code,
                    message,
                    role,
                } => {
                    if self.server_side_hidden(conn_id, role) {
                        self.stats.server_side_warnings += 1;
                        continue;
                    }
                    let w = SensorWarning::new(code, message).with_conn_id(conn_id);
                    let ev = self.warning_event(w, ts, Some(conn_id));
                    out.push(ev);
                }
            }
        }
    }

    /// Whether what connection `conn_id` (whose role the tracker knew as `role`) shows is a
    /// server's view not to be reported: its role, from the tracker or else from the
    /// connection's `ConnOpen`, is server, and server sides are not included.
    fn server_side_hidden(&self, conn_id: u64, role: Option<ConnRole>) -> bool {
        if self.cfg.include_server_side {
            return false;
        }
        let role = role
            .filter(|r| *r != ConnRole::Unknown)
            .or_else(|| self.conn_owner.get(&conn_id).map(|&(_, _, r)| r));
        role == Some(ConnRole::Server)
    }

    /// A WebSocket message or end: completed turns are decoded like exchanges.
    fn websocket(&mut self, o: crate::ws::WsOutput, out: &mut Vec<Event>) {
        let mut turns = Vec::new();
        self.ws_calls.push(o, &mut turns);
        for t in &turns {
            self.stats.ws_turns += 1;
            self.exchange_of(&t.exchange, Some(t), out);
        }
    }

    fn exchange(&mut self, ex: &HttpExchange, out: &mut Vec<Event>) {
        self.exchange_of(ex, None, out)
    }

    /// Decodes `ex` (the exchange of WebSocket turn `turn`, if it is one) into events.
    fn exchange_of(
        &mut self,
        ex: &HttpExchange,
        turn: Option<&providers::ws::WsTurn>,
        out: &mut Vec<Event>,
    ) {
        self.stats.exchanges += 1;
        if ex.conn.role == Some(ConnRole::Server) && !self.cfg.include_server_side {
            self.stats.server_side_exchanges += 1;
            return;
        }
        let call = match turn {
            Some(t) => providers::ws::decode_ws_turn(t),
            None => providers::decode_exchange(ex),
        };
        match call {
            Some(call) => {
                self.ignore.exchange(ex, true);
                self.stats.ai_calls += 1;
                let exe = self
                    .procs
                    .get(ex.conn.pid)
                    .map(|p| p.image.exe.as_str())
                    .filter(|e| !e.is_empty());
                self.ai_processes.call(
                    ex.conn.pid,
                    exe,
                    ex.conn.source,
                    call.detection.oisp_provider,
                );
                self.ai_events(ex, &call, out);
            }
            None => {
                self.ignore.exchange(ex, false);
                self.stats.non_ai_exchanges += 1;
            }
        }
    }

    fn warning_event(&mut self, w: SensorWarning, at: Timestamp, conn_id: Option<u64>) -> Event {
        self.stats.warnings += 1;
        let (pid, tid) = conn_id
            .and_then(|c| self.conn_owner.get(&c))
            .map(|&(p, t, _)| (p, t))
            .unwrap_or((0, 0));
        let mut ctx = EventContext::for_system(self, pid, tid);
        ctx.conn_id = conn_id;
        ctx.confidence.reasons = vec!["decoder_warning".into()];
        ctx.confidence.content_source = None;
        if pid == 0 {
            ctx.process = Default::default();
        }
        let id = ctx.event_id(self, "warning", at);
        let mut ev = ctx.event(w, at, &id, "decoder");
        if pid == 0 {
            ev.process = None;
        }
        ev
    }

    /// Puts `host.container` / `host.k8s` on every event of a process in a known container
    /// (whichever part of the decoder built the event).
    fn fill_hosts(&self, evs: &mut [Event]) {
        for ev in evs.iter_mut().filter(|e| e.host.is_none()) {
            let Some(pid) = ev.process.as_ref().and_then(|p| p.pid) else {
                continue;
            };
            let cgroup = u32::try_from(pid)
                .ok()
                .and_then(|pid| self.procs.get(pid))
                .and_then(|p| p.image.cgroup.as_deref());
            if let Some(h) = self.containers.host(cgroup) {
                ev.host = Some(h.clone());
            }
        }
    }

    /// Next deterministic event id: a ULID whose time part is the record's wall clock and whose
    /// random part hashes this decoder's event counter.
    fn next_id(&mut self, conn_id: u64, kind: &str, at: Timestamp) -> String {
        self.id_counter += 1;
        let seed = format!("{}/{conn_id}/{kind}", self.id_counter);
        oisp_event::event_id_from(at.wall_ns, seed.as_bytes())
    }
}

/// Decodes a whole capture at once: every record, then end of capture.
pub fn decode_records<'a>(
    records: impl IntoIterator<Item = &'a RawRecord>,
) -> (Vec<Event>, DecodeStats) {
    decode_records_with(DecoderConfig::default(), records)
}

/// Decodes a whole `.oraw` capture held in memory the way `replay` does (through
/// [`CaptureDecoder`]): process, file and network records are treated as the capture's header
/// says they were observed. On a damaged capture the records before the damage are decoded and
/// the read error is returned with them.
pub fn decode_capture(bytes: &[u8]) -> (Vec<Event>, DecodeStats, Option<oisp_capture::RawError>) {
    let mut dec = CaptureDecoder::default();
    let mut out = Vec::new();
    let err = match oisp_capture::RawReader::new(bytes) {
        Err(e) => Some(e),
        Ok(mut reader) => {
            dec.begin_capture(reader.meta(), &mut out);
            loop {
                match reader.next_record() {
                    Ok(Some(r)) => dec.push(&r, &mut out),
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                }
            }
        }
    };
    dec.finish_capture(&mut out);
    (out, dec.stats(), err)
}

/// [`decode_records`] with a configuration (one capture of a [`CaptureDecoder`]).
pub fn decode_records_with<'a>(
    cfg: DecoderConfig,
    records: impl IntoIterator<Item = &'a RawRecord>,
) -> (Vec<Event>, DecodeStats) {
    let mut dec = CaptureDecoder::new(cfg);
    let mut out = Vec::new();
    for r in records {
        dec.push(r, &mut out);
    }
    dec.finish_capture(&mut out);
    (out, dec.stats())
}
