//! The worker that puts a network sink behind a disk-backed queue.
//!
//! ```text
//!  pipeline thread        ingest thread              delivery thread
//!  send(item) ──► pending ──► DiskQueue (SQLite) ──► peek ─► sink.deliver ─► ack
//!                 (memory)    bounded, drop-oldest          retry: backoff + jitter
//! ```
//!
//! - `send` only appends to an in-memory list: it never waits for the network (it writes to disk
//!   itself only if the ingest thread has fallen more than [`PENDING_LIMIT`] items behind).
//! - The delivery thread makes one attempt per batch; a `Retryable` failure keeps the batch and
//!   waits `RetryPolicy::delay(attempt)` (exponential, capped, jittered); `Rejected` drops the
//!   batch and counts it. Delivery is at-least-once and in queue order.
//! - On shutdown the worker keeps delivering until the queue is empty or the timeout passes;
//!   what is left stays on disk and goes first when a sensor opens the same queue again.

use crate::queue::{DiskQueue, QueueError};
use crate::{DeliveryError, Item, Sink, SinkHealth, SinkState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Items the pipeline may get ahead of the ingest thread before `send` writes to disk itself.
pub const PENDING_LIMIT: usize = 100_000;

/// How failed deliveries are retried: the n-th consecutive failure waits a random time in
/// `[d/2, d]` where `d = min(max, initial × 2ⁿ)` ("equal jitter": spread out, never zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
}

/// The longest a destination's `Retry-After` is honoured (a bigger value is taken as this).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait after `failures` consecutive failures (1 = first failure).
    pub fn delay(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(30);
        let d = self
            .initial
            .saturating_mul(1u32 << exp)
            .min(self.max)
            .max(Duration::from_millis(1));
        let half = d / 2;
        half + Duration::from_nanos(fastrand::u64(0..=(d - half).as_nanos() as u64))
    }
}

#[derive(Default)]
struct Pending {
    items: Vec<Arc<[u8]>>,
    oldest_ms: Option<u64>,
}

struct Status {
    state: SinkState,
    delivered: u64,
    failures: u64,
    /// Rejected by the destination, or unreadable in the queue.
    discarded: u64,
    last_error: Option<String>,
}

struct Shared {
    kind: &'static str,
    target: String,
    name: String,
    queue: Mutex<DiskQueue>,
    pending: Mutex<Pending>,
    /// Signalled when items are added to `pending` or on stop.
    pending_cv: Condvar,
    /// Signalled when the ingest thread moved items to disk or on stop.
    queued_cv: Condvar,
    queued_flag: Mutex<()>,
    stop: AtomicBool,
    deadline: Mutex<Option<Instant>>,
    status: Mutex<Status>,
}

/// A network sink behind its disk queue, served by two threads. See the module documentation.
pub struct SinkWorker {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl SinkWorker {
    /// Starts the worker threads. `name` identifies the sink in warnings (e.g. `otlp`).
    pub fn spawn(
        name: &str,
        sink: Box<dyn Sink>,
        queue: DiskQueue,
        retry: RetryPolicy,
    ) -> SinkWorker {
        let shared = Arc::new(Shared {
            kind: sink.kind(),
            target: sink.target(),
            name: name.to_string(),
            queue: Mutex::new(queue),
            pending: Mutex::new(Pending::default()),
            pending_cv: Condvar::new(),
            queued_cv: Condvar::new(),
            queued_flag: Mutex::new(()),
            stop: AtomicBool::new(false),
            deadline: Mutex::new(None),
            status: Mutex::new(Status {
                state: SinkState::Ok,
                delivered: 0,
                failures: 0,
                discarded: 0,
                last_error: None,
            }),
        });
        let ingest = {
            let s = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("sink-{name}-ingest"))
                .spawn(move || ingest_loop(&s))
                .expect("spawn sink ingest thread")
        };
        let deliver = {
            let s = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("sink-{name}"))
                .spawn(move || delivery_loop(&s, sink, retry))
                .expect("spawn sink delivery thread")
        };
        SinkWorker {
            shared,
            threads: vec![ingest, deliver],
        }
    }

    /// Queues one item for delivery. Never blocks on the network.
    pub fn send(&self, item: &Item) {
        let mut p = lock(&self.shared.pending);
        if p.items.is_empty() {
            p.oldest_ms = Some(now_ms());
        }
        p.items.push(Arc::clone(&item.json));
        if p.items.len() >= PENDING_LIMIT {
            // The ingest thread is far behind (slow disk): write here rather than grow memory.
            let items = std::mem::take(&mut p.items);
            p.oldest_ms = None;
            drop(p);
            store(&self.shared, items);
        } else {
            drop(p);
            self.shared.pending_cv.notify_one();
        }
    }

    /// Counters and state for `status`.
    pub fn health(&self) -> SinkHealth {
        health(&self.shared)
    }

    /// Waits until everything sent so far has been delivered, or `timeout` passes.
    /// Returns true when the queue is empty.
    pub fn flush(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        loop {
            let h = self.health();
            if h.queued == 0 {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the worker: delivers what it can within `timeout`, leaves the rest on disk.
    pub fn shutdown(mut self, timeout: Duration) -> SinkHealth {
        self.stop_threads(timeout);
        let mut h = health(&self.shared);
        h.state = SinkState::Stopped;
        h
    }

    fn stop_threads(&mut self, timeout: Duration) {
        *lock(&self.shared.deadline) = Some(Instant::now() + timeout);
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.pending_cv.notify_all();
        self.shared.queued_cv.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for SinkWorker {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.stop_threads(Duration::from_secs(2));
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn health(s: &Shared) -> SinkHealth {
    let (pending, pending_oldest) = {
        let p = lock(&s.pending);
        (p.items.len() as u64, p.oldest_ms)
    };
    let (queued, queue_dropped, queue_oldest) = {
        let q = lock(&s.queue);
        (q.len(), q.dropped(), q.oldest_enqueued_ms().ok().flatten())
    };
    let st = lock(&s.status);
    let oldest = match (pending_oldest, queue_oldest) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    SinkHealth {
        kind: s.kind.to_string(),
        target: s.target.clone(),
        state: st.state,
        delivered: st.delivered,
        queued: pending + queued,
        lag_ms: oldest.map_or(0, |o| now_ms().saturating_sub(o)),
        dropped: queue_dropped + st.discarded,
        failures: st.failures,
        last_error: st.last_error.clone(),
    }
}

/// Moves `items` to the disk queue; on failure puts them back at the front of `pending`.
fn store(s: &Shared, items: Vec<Arc<[u8]>>) {
    let bodies: Vec<&[u8]> = items.iter().map(|b| &b[..]).collect();
    let result = lock(&s.queue).push_batch(&bodies, now_ms());
    match result {
        Ok(_) => {
            let _g = lock(&s.queued_flag);
            s.queued_cv.notify_all();
        }
        Err(e) => {
            report_queue_error(s, &e);
            let mut p = lock(&s.pending);
            let newer = std::mem::replace(&mut p.items, items);
            p.items.extend(newer);
            p.oldest_ms.get_or_insert_with(now_ms);
            drop(p);
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn report_queue_error(s: &Shared, e: &QueueError) {
    let msg = format!("disk queue: {e}");
    let mut st = lock(&s.status);
    if st.last_error.as_deref() != Some(&msg) {
        eprintln!("oisp-sensor: warning: sink {}: {msg}", s.name);
    }
    st.last_error = Some(msg);
}

fn ingest_loop(s: &Shared) {
    loop {
        let mut p = lock(&s.pending);
        while p.items.is_empty() && !s.stop.load(Ordering::SeqCst) {
            p = s
                .pending_cv
                .wait_timeout(p, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if p.items.is_empty() {
            return; // stopping, nothing left
        }
        let items = std::mem::take(&mut p.items);
        p.oldest_ms = None;
        drop(p);
        store(s, items);
    }
}

fn delivery_loop(s: &Shared, mut sink: Box<dyn Sink>, retry: RetryPolicy) {
    let mut failures_in_row = 0u32;
    let mut next_attempt = Instant::now();
    let mut last_flush = Instant::now();
    // On shutdown a failing sink gets one immediate last attempt, not backoff until the deadline:
    // what it cannot take stays on disk for the next run.
    let mut stop_seen = false;
    let mut failed_since_stop = false;
    loop {
        let stopping = s.stop.load(Ordering::SeqCst);
        let deadline = *lock(&s.deadline);
        if stopping && deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        if stopping && !stop_seen {
            stop_seen = true;
            next_attempt = Instant::now();
        }
        if failed_since_stop {
            break;
        }
        let now = Instant::now();
        if now < next_attempt {
            let mut wait = next_attempt - now;
            if let Some(d) = deadline {
                wait = wait.min(d.saturating_duration_since(now));
            }
            let g = lock(&s.queued_flag);
            let _ = s
                .queued_cv
                .wait_timeout(g, wait.min(Duration::from_millis(200)));
            continue;
        }
        // Peek while holding `queued_flag`: the ingest thread notifies under it, so a push that
        // lands after this peek wakes the wait below instead of being missed.
        let flag = lock(&s.queued_flag);
        let batch = lock(&s.queue).peek(sink.max_batch().max(1));
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                report_queue_error(s, &e);
                next_attempt = Instant::now() + Duration::from_secs(1);
                continue;
            }
        };
        if batch.is_empty() {
            let pending_empty = lock(&s.pending).items.is_empty();
            if stopping && pending_empty {
                break;
            }
            if last_flush.elapsed() >= Duration::from_secs(1) {
                drop(flag);
                last_flush = Instant::now();
                let _ = sink.flush();
                continue;
            }
            let _ = s.queued_cv.wait_timeout(flag, Duration::from_millis(100));
            continue;
        }
        drop(flag);
        let last_id = batch.last().map(|q| q.id).unwrap_or(0);
        let mut items = Vec::with_capacity(batch.len());
        let mut unreadable = 0u64;
        for q in &batch {
            match Item::from_json(&q.body) {
                Ok(i) => items.push(i),
                Err(_) => unreadable += 1,
            }
        }
        if unreadable > 0 {
            let mut st = lock(&s.status);
            st.discarded += unreadable;
            st.last_error = Some(format!(
                "{unreadable} unreadable items in the queue dropped"
            ));
        }
        let result = if items.is_empty() {
            Ok(())
        } else {
            sink.deliver(&items)
        };
        match result {
            Ok(()) => {
                failures_in_row = 0;
                let acked = lock(&s.queue).ack(last_id);
                let mut st = lock(&s.status);
                st.state = SinkState::Ok;
                st.delivered += items.len() as u64;
                if unreadable == 0 {
                    st.last_error = None;
                }
                drop(st);
                if let Err(e) = acked {
                    report_queue_error(s, &e);
                }
            }
            Err(DeliveryError::Retryable(mut e)) => {
                failed_since_stop = stopping;
                failures_in_row += 1;
                let asked = sink.retry_after().map(|d| d.min(MAX_RETRY_AFTER));
                if let Some(d) = asked {
                    e.push_str(&format!(
                        " (asked to retry after {} s)",
                        d.as_secs_f64().ceil()
                    ));
                }
                next_attempt =
                    Instant::now() + retry.delay(failures_in_row).max(asked.unwrap_or_default());
                let mut st = lock(&s.status);
                if st.state != SinkState::Retrying {
                    eprintln!(
                        "oisp-sensor: warning: sink {} ({}): {e}; retrying, events wait in the queue",
                        s.name, s.target
                    );
                }
                st.state = SinkState::Retrying;
                st.failures += 1;
                st.last_error = Some(e);
            }
            Err(DeliveryError::Rejected(e)) => {
                let acked = lock(&s.queue).ack(last_id);
                let mut st = lock(&s.status);
                eprintln!(
                    "oisp-sensor: warning: sink {} ({}) rejected {} events: {e}",
                    s.name,
                    s.target,
                    items.len()
                );
                st.failures += 1;
                st.discarded += items.len() as u64;
                st.last_error = Some(format!("rejected: {e}"));
                drop(st);
                if let Err(e) = acked {
                    report_queue_error(s, &e);
                }
            }
        }
    }
    let _ = sink.flush();
    lock(&s.status).state = SinkState::Stopped;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::QueueLimits;

    /// A sink that appends to a shared list and fails while `down` is set. (A test double for
    /// the worker's own logic; real sinks are tested against real receivers in their crates.)
    struct Flaky {
        got: Arc<Mutex<Vec<String>>>,
        down: Arc<AtomicBool>,
    }

    impl Sink for Flaky {
        fn kind(&self) -> &'static str {
            "test"
        }
        fn target(&self) -> String {
            "memory".into()
        }
        fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(DeliveryError::Retryable("connection refused".into()));
            }
            let mut g = self.got.lock().unwrap();
            g.extend(batch.iter().map(|i| i.event.event_id.clone()));
            Ok(())
        }
        fn max_batch(&self) -> usize {
            7
        }
    }

    fn item(n: u32) -> Item {
        let mut ev: oisp_event::Event = serde_json::from_str(include_str!(
            "../../../vendor/oisp-spec/examples/process-exec.json"
        ))
        .unwrap();
        ev.event_id = format!("ev{n:05}");
        Item::new(ev).unwrap()
    }

    #[test]
    fn retry_delays_grow_and_stay_jittered_within_bounds() {
        let p = RetryPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
        };
        for (n, cap) in [(1, 100), (2, 200), (3, 400), (6, 2000), (40, 2000)] {
            for _ in 0..50 {
                let d = p.delay(n).as_millis() as u64;
                assert!(d >= cap / 2 && d <= cap, "failure {n}: {d} ms");
            }
        }
    }

    #[test]
    fn outage_loses_nothing_and_order_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let down = Arc::new(AtomicBool::new(true));
        let queue = DiskQueue::open(
            &dir.path().join("q.db"),
            QueueLimits {
                max_events: 10_000,
                max_bytes: 1 << 30,
            },
        )
        .unwrap();
        let w = SinkWorker::spawn(
            "test",
            Box::new(Flaky {
                got: Arc::clone(&got),
                down: Arc::clone(&down),
            }),
            queue,
            RetryPolicy {
                initial: Duration::from_millis(5),
                max: Duration::from_millis(20),
            },
        );
        for n in 0..500 {
            w.send(&item(n));
        }
        std::thread::sleep(Duration::from_millis(150));
        let h = w.health();
        assert_eq!(h.state, SinkState::Retrying);
        assert_eq!(h.queued, 500);
        assert!(h.failures > 0);
        down.store(false, Ordering::SeqCst);
        assert!(w.flush(Duration::from_secs(10)));
        let h = w.shutdown(Duration::from_secs(1));
        assert_eq!((h.delivered, h.queued, h.dropped), (500, 0, 0));
        let got = got.lock().unwrap();
        let want: Vec<String> = (0..500).map(|n| format!("ev{n:05}")).collect();
        assert_eq!(*got, want);
    }

    #[test]
    fn shutdown_of_a_failing_sink_makes_one_last_attempt_and_returns() {
        let dir = tempfile::tempdir().unwrap();
        let down = Arc::new(AtomicBool::new(true));
        let w = SinkWorker::spawn(
            "t",
            Box::new(Flaky {
                got: Arc::new(Mutex::new(Vec::new())),
                down: Arc::clone(&down),
            }),
            DiskQueue::open(
                &dir.path().join("q.db"),
                QueueLimits {
                    max_events: 100,
                    max_bytes: 1 << 30,
                },
            )
            .unwrap(),
            RetryPolicy {
                initial: Duration::from_secs(5),
                max: Duration::from_secs(30),
            },
        );
        for n in 0..10 {
            w.send(&item(n));
        }
        std::thread::sleep(Duration::from_millis(200));
        let start = Instant::now();
        let h = w.shutdown(Duration::from_secs(20));
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(h.queued, 10);
        assert!(h.failures >= 2, "the last attempt was made");
    }

    #[test]
    fn undelivered_items_stay_on_disk_for_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        let limits = QueueLimits {
            max_events: 100,
            max_bytes: 1 << 30,
        };
        let got = Arc::new(Mutex::new(Vec::new()));
        let down = Arc::new(AtomicBool::new(true));
        let sink = || {
            Box::new(Flaky {
                got: Arc::clone(&got),
                down: Arc::clone(&down),
            })
        };
        let w = SinkWorker::spawn(
            "t",
            sink(),
            DiskQueue::open(&path, limits).unwrap(),
            RetryPolicy::default(),
        );
        for n in 0..150 {
            w.send(&item(n));
        }
        let h = w.shutdown(Duration::from_millis(300));
        assert_eq!(h.queued, 100);
        assert_eq!(h.dropped, 50, "a full queue drops the oldest");
        down.store(false, Ordering::SeqCst);
        let w = SinkWorker::spawn(
            "t",
            sink(),
            DiskQueue::open(&path, limits).unwrap(),
            RetryPolicy::default(),
        );
        assert!(w.flush(Duration::from_secs(10)));
        drop(w);
        let got = got.lock().unwrap();
        assert_eq!(got.first().map(String::as_str), Some("ev00050"));
        assert_eq!(got.len(), 100);
    }
}
