//! The fan-out: every event, serialised once, to every sink whose filter it passes.

use crate::filter::EventMatcher;
use crate::filter::FilterConfig;
use crate::threaded::ThreadedSink;
use crate::{DeliveryError, DiskQueue, Item, RetryPolicy, Sink, SinkHealth, SinkState, SinkWorker};
use oisp_event::Event;
use std::collections::VecDeque;
use std::time::Duration;

/// Items a local sink may hold while it fails (e.g. disk full) before the oldest are dropped.
pub const LOCAL_BUFFER_LIMIT: usize = 100_000;

/// A healthy local sink is written as soon as it holds this many items, without waiting for
/// [`SinkSet::flush`]: a burst between two flushes (a full ring drained at once) must not reach
/// [`LOCAL_BUFFER_LIMIT`], which is for sinks that fail.
pub const LOCAL_WRITE_BATCH: usize = 4096;

/// A sink written on the pipeline thread at each [`SinkSet::flush`] (store, JSONL, WebSocket).
struct Local {
    name: String,
    sink: Box<dyn Sink>,
    matcher: Option<EventMatcher>,
    buf: VecDeque<Item>,
    delivered: u64,
    dropped: u64,
    failures: u64,
    last_error: Option<String>,
}

struct Queued {
    name: String,
    worker: SinkWorker,
    matcher: Option<EventMatcher>,
}

struct Threaded {
    name: String,
    sink: ThreadedSink,
    matcher: Option<EventMatcher>,
}

/// Every configured sink. See the crate documentation for local vs queued sinks.
#[derive(Default)]
pub struct SinkSet {
    local: Vec<Local>,
    threaded: Vec<Threaded>,
    queued: Vec<Queued>,
    sent: u64,
    unserialisable: u64,
}

fn matcher(filter: Option<&FilterConfig>) -> Option<EventMatcher> {
    filter.map(EventMatcher::new).filter(|m| !m.is_pass_all())
}

impl SinkSet {
    pub fn new() -> Self {
        SinkSet::default()
    }

    /// Adds a sink written synchronously at each flush.
    pub fn add_local(&mut self, name: &str, sink: Box<dyn Sink>, filter: Option<&FilterConfig>) {
        self.local.push(Local {
            name: name.to_string(),
            sink,
            matcher: matcher(filter),
            buf: VecDeque::new(),
            delivered: 0,
            dropped: 0,
            failures: 0,
            last_error: None,
        });
    }

    /// Adds a local sink written from its own thread (the store): the pipeline only buffers.
    pub fn add_threaded(&mut self, name: &str, sink: Box<dyn Sink>, filter: Option<&FilterConfig>) {
        self.threaded.push(Threaded {
            name: name.to_string(),
            sink: ThreadedSink::spawn(name, sink),
            matcher: matcher(filter),
        });
    }

    /// Adds a network sink behind its disk queue (a [`SinkWorker`] starts now).
    pub fn add_queued(
        &mut self,
        name: &str,
        sink: Box<dyn Sink>,
        queue: DiskQueue,
        retry: RetryPolicy,
        filter: Option<&FilterConfig>,
    ) {
        self.queued.push(Queued {
            name: name.to_string(),
            worker: SinkWorker::spawn(name, sink, queue, retry),
            matcher: matcher(filter),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.local.is_empty() && self.threaded.is_empty() && self.queued.is_empty()
    }

    /// Names of the configured sinks, in the order they were added (local first).
    pub fn names(&self) -> Vec<String> {
        let local = self.local.iter().map(|l| l.name.clone());
        local
            .chain(self.threaded.iter().map(|t| t.name.clone()))
            .chain(self.queued.iter().map(|q| q.name.clone()))
            .collect()
    }

    /// Hands one (already redacted and globally filtered) event to every sink whose own filter
    /// it passes. Serialises it once. Never blocks on a network.
    pub fn send(&mut self, ev: Event) {
        let wanted = |m: &Option<EventMatcher>| m.as_ref().is_none_or(|m| m.matches(&ev));
        let any = self.local.iter().any(|l| wanted(&l.matcher))
            || self.threaded.iter().any(|t| wanted(&t.matcher))
            || self.queued.iter().any(|q| wanted(&q.matcher));
        if !any {
            return;
        }
        let local_wants: Vec<bool> = self.local.iter().map(|l| wanted(&l.matcher)).collect();
        let threaded_wants: Vec<bool> = self.threaded.iter().map(|t| wanted(&t.matcher)).collect();
        let queued_wants: Vec<bool> = self.queued.iter().map(|q| wanted(&q.matcher)).collect();
        let item = match Item::new(ev) {
            Ok(i) => i,
            Err(e) => {
                self.unserialisable += 1;
                eprintln!("oisp-sensor: warning: event not serialisable, not sent: {e}");
                return;
            }
        };
        self.sent += 1;
        for (l, _) in self.local.iter_mut().zip(&local_wants).filter(|(_, w)| **w) {
            if l.buf.len() >= LOCAL_BUFFER_LIMIT {
                l.buf.pop_front();
                l.dropped += 1;
            }
            l.buf.push_back(item.clone());
            if l.buf.len() >= LOCAL_WRITE_BATCH && l.last_error.is_none() {
                write_out(l, false);
            }
        }
        for (q, _) in self.queued.iter().zip(&queued_wants).filter(|(_, w)| **w) {
            q.worker.send(&item);
        }
        for (t, _) in self
            .threaded
            .iter()
            .zip(&threaded_wants)
            .filter(|(_, w)| **w)
        {
            t.sink.send(item.clone());
        }
    }

    /// Writes what local sinks hold and flushes them. A failing local sink keeps its items for
    /// the next flush (up to [`LOCAL_BUFFER_LIMIT`]); the error shows in its health.
    pub fn flush(&mut self) {
        for t in &self.threaded {
            t.sink.request_flush();
        }
        for l in &mut self.local {
            if !l.buf.is_empty() {
                write_out(l, true);
            } else if let Err(e) = l.sink.flush() {
                l.failures += 1;
                report(l, e.to_string());
            }
        }
    }

    /// Events handed to at least one sink.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Each sink's name and health.
    pub fn health(&self) -> Vec<(String, SinkHealth)> {
        let local = self.local.iter().map(|l| (l.name.clone(), local_health(l)));
        let threaded = self
            .threaded
            .iter()
            .map(|t| (t.name.clone(), t.sink.health()));
        local
            .chain(threaded)
            .chain(
                self.queued
                    .iter()
                    .map(|q| (q.name.clone(), q.worker.health())),
            )
            .collect()
    }

    /// Waits up to `timeout` for every queued sink to deliver what it holds.
    pub fn drain(&mut self, timeout: Duration) -> bool {
        self.flush();
        let end = std::time::Instant::now() + timeout;
        let left = || end.saturating_duration_since(std::time::Instant::now());
        let threaded_ok = self.threaded.iter().all(|t| t.sink.flush(left()));
        threaded_ok
            && self.queued.iter().all(|q| {
                q.worker
                    .flush(end.saturating_duration_since(std::time::Instant::now()))
            })
    }

    /// Flushes local sinks and stops the workers, giving them up to `timeout` (shared) to
    /// deliver; undelivered events stay in their disk queues. Returns every sink's final health.
    pub fn shutdown(mut self, timeout: Duration) -> Vec<(String, SinkHealth)> {
        self.flush();
        let end = std::time::Instant::now() + timeout;
        let mut out: Vec<(String, SinkHealth)> = self
            .local
            .iter()
            .map(|l| {
                let mut h = local_health(l);
                h.state = SinkState::Stopped;
                (l.name.clone(), h)
            })
            .collect();
        for t in self.threaded.drain(..) {
            let left = end.saturating_duration_since(std::time::Instant::now());
            out.push((t.name, t.sink.shutdown(left)));
        }
        for q in self.queued.drain(..) {
            let left = end.saturating_duration_since(std::time::Instant::now());
            out.push((q.name, q.worker.shutdown(left)));
        }
        out
    }
}

/// Delivers what local sink `l` holds (and flushes it when `flush`). On a retryable error the
/// items stay for the next attempt; a rejected batch is dropped and counted.
fn write_out(l: &mut Local, flush: bool) {
    let batch: Vec<Item> = l.buf.iter().cloned().collect();
    let r = l
        .sink
        .deliver(&batch)
        .and_then(|()| if flush { l.sink.flush() } else { Ok(()) });
    match r {
        Ok(()) => {
            l.delivered += batch.len() as u64;
            l.buf.clear();
            l.last_error = None;
        }
        Err(DeliveryError::Rejected(e)) => {
            l.dropped += batch.len() as u64;
            l.buf.clear();
            l.failures += 1;
            report(l, format!("rejected: {e}"));
        }
        Err(DeliveryError::Retryable(e)) => {
            l.failures += 1;
            report(l, e);
        }
    }
}

fn report(l: &mut Local, msg: String) {
    if l.last_error.as_deref() != Some(&msg) {
        eprintln!(
            "oisp-sensor: warning: sink {} ({}): {msg}",
            l.name,
            l.sink.target()
        );
    }
    l.last_error = Some(msg);
}

fn local_health(l: &Local) -> SinkHealth {
    SinkHealth {
        kind: l.sink.kind().to_string(),
        target: l.sink.target(),
        state: if l.last_error.is_some() && !l.buf.is_empty() {
            SinkState::Retrying
        } else {
            SinkState::Ok
        },
        delivered: l.delivered,
        queued: l.buf.len() as u64,
        lag_ms: 0,
        dropped: l.dropped,
        failures: l.failures,
        last_error: l.last_error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonl::JsonlConfig;
    use crate::jsonl::JsonlSink;

    #[test]
    fn per_sink_filters_route_events() {
        let dir = tempfile::tempdir().unwrap();
        let all = dir.path().join("all.jsonl");
        let ai = dir.path().join("ai.jsonl");
        let mut set = SinkSet::new();
        let jsonl = |p: &std::path::Path| {
            Box::new(
                JsonlSink::new(&JsonlConfig {
                    path: p.to_path_buf(),
                    ..Default::default()
                })
                .unwrap(),
            )
        };
        set.add_local("all", jsonl(&all), None);
        let only_ai = FilterConfig {
            types: vec!["ai".into()],
            ..Default::default()
        };
        set.add_local("ai", jsonl(&ai), Some(&only_ai));
        for ex in ["process-exec", "ai-request-openai", "ai-response-openai"] {
            let path = format!(
                "{}/../../vendor/oisp-spec/examples/{ex}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            set.send(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap());
        }
        let health = set.shutdown(Duration::from_secs(1));
        assert_eq!(health[0].1.delivered, 3);
        assert_eq!(health[1].1.delivered, 2);
        assert_eq!(std::fs::read_to_string(&all).unwrap().lines().count(), 3);
        assert_eq!(std::fs::read_to_string(&ai).unwrap().lines().count(), 2);
    }

    /// A burst far larger than the failing-sink buffer, sent without a flush in between (as
    /// `record` does when it drains a full ring), reaches a healthy local sink whole.
    #[test]
    fn a_burst_between_flushes_is_written_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("burst.jsonl");
        let mut set = SinkSet::new();
        let sink = JsonlSink::new(&JsonlConfig {
            path: out.clone(),
            ..Default::default()
        })
        .unwrap();
        set.add_local("jsonl", Box::new(sink), None);
        let path = format!(
            "{}/../../vendor/oisp-spec/examples/process-exec.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let ev: Event = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let n = LOCAL_BUFFER_LIMIT + 2 * LOCAL_WRITE_BATCH + 7;
        for i in 0..n {
            let mut e = ev.clone();
            e.event_id = format!("burst-{i}");
            set.send(e);
        }
        let health = set.shutdown(Duration::from_secs(1));
        assert_eq!(health[0].1.dropped, 0);
        assert_eq!(health[0].1.delivered, n as u64);
        assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), n);
    }
}
