//! A local sink (the store, a file) written from its own thread, so the pipeline thread never
//! waits for a disk: it only appends to a bounded in-memory buffer.
//!
//! When the buffer is full the pipeline waits (backpressure: capture then counts what the kernel
//! ring could not hold) rather than dropping here. A failing `deliver` keeps the batch and retries
//! after a second; `flush` asks the thread to write now and waits until it has.

use crate::{DeliveryError, Item, Sink, SinkHealth, SinkState};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Items the pipeline may get ahead of the writer thread before `send` waits.
pub const THREADED_BUFFER: usize = 50_000;

struct State {
    buf: VecDeque<Item>,
    /// Items taken by the writer and not yet written.
    in_flight: usize,
    stop: bool,
    delivered: u64,
    dropped: u64,
    failures: u64,
    last_error: Option<String>,
    /// Incremented by every `flush` request; the writer answers by copying it to `flushed`.
    flush_requested: u64,
    flushed: u64,
}

struct Shared {
    state: Mutex<State>,
    /// Work arrived, a flush was requested, or stop.
    work: Condvar,
    /// Room in the buffer, or a flush finished.
    progress: Condvar,
    kind: &'static str,
    target: String,
    name: String,
}

/// See the module documentation.
pub struct ThreadedSink {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

fn lock(s: &Shared) -> MutexGuard<'_, State> {
    s.state.lock().unwrap_or_else(|e| e.into_inner())
}

impl ThreadedSink {
    pub fn spawn(name: &str, sink: Box<dyn Sink>) -> ThreadedSink {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                buf: VecDeque::new(),
                in_flight: 0,
                stop: false,
                delivered: 0,
                dropped: 0,
                failures: 0,
                last_error: None,
                flush_requested: 0,
                flushed: 0,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            kind: sink.kind(),
            target: sink.target(),
            name: name.to_string(),
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("sink-{name}"))
            .spawn(move || writer(&s, sink))
            .expect("spawn sink writer thread");
        ThreadedSink {
            shared,
            thread: Some(thread),
        }
    }

    /// Appends `item`; waits only while the buffer is full.
    pub fn send(&self, item: Item) {
        let mut st = lock(&self.shared);
        while st.buf.len() >= THREADED_BUFFER && !st.stop {
            st = self
                .shared
                .progress
                .wait(st)
                .unwrap_or_else(|e| e.into_inner());
        }
        st.buf.push_back(item);
        if st.buf.len() == 1 || st.buf.len().is_multiple_of(1024) {
            self.shared.work.notify_one();
        }
    }

    /// Asks the writer to write everything buffered and flush the sink, without waiting.
    pub fn request_flush(&self) {
        lock(&self.shared).flush_requested += 1;
        self.shared.work.notify_one();
    }

    /// Asks the writer to write everything buffered and flush the sink; waits up to `timeout`.
    /// Returns true when it did.
    pub fn flush(&self, timeout: Duration) -> bool {
        let mut st = lock(&self.shared);
        st.flush_requested += 1;
        let want = st.flush_requested;
        self.shared.work.notify_one();
        let end = std::time::Instant::now() + timeout;
        while st.flushed < want {
            let Some(left) = end.checked_duration_since(std::time::Instant::now()) else {
                return false;
            };
            st = self
                .shared
                .progress
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    pub fn health(&self) -> SinkHealth {
        let st = lock(&self.shared);
        SinkHealth {
            kind: self.shared.kind.to_string(),
            target: self.shared.target.clone(),
            state: if st.stop {
                SinkState::Stopped
            } else if st.last_error.is_some() {
                SinkState::Retrying
            } else {
                SinkState::Ok
            },
            delivered: st.delivered,
            queued: (st.buf.len() + st.in_flight) as u64,
            lag_ms: 0,
            dropped: st.dropped,
            failures: st.failures,
            last_error: st.last_error.clone(),
        }
    }

    /// Writes what is buffered (up to `timeout`) and stops the thread.
    pub fn shutdown(mut self, timeout: Duration) -> SinkHealth {
        self.flush(timeout);
        self.stop();
        self.health()
    }

    fn stop(&mut self) {
        lock(&self.shared).stop = true;
        self.shared.work.notify_all();
        self.shared.progress.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ThreadedSink {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.flush(Duration::from_secs(5));
            self.stop();
        }
    }
}

fn writer(s: &Shared, mut sink: Box<dyn Sink>) {
    let max = sink.max_batch().max(1);
    loop {
        let mut st = lock(s);
        while st.buf.is_empty() && st.flush_requested == st.flushed && !st.stop {
            st = s
                .work
                .wait_timeout(st, Duration::from_millis(200))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if st.stop && st.buf.is_empty() {
            return;
        }
        let flush_to = st.flush_requested;
        let n = st.buf.len().min(max * 8);
        let batch: Vec<Item> = st.buf.drain(..n).collect();
        st.in_flight = batch.len();
        drop(st);
        s.progress.notify_all();

        let mut result = Ok(());
        for chunk in batch.chunks(max) {
            result = sink.deliver(chunk);
            if result.is_err() {
                break;
            }
        }
        let all_written = {
            let st = lock(s);
            st.buf.is_empty()
        };
        if result.is_ok() && all_written {
            result = sink.flush();
        }
        let mut st = lock(s);
        st.in_flight = 0;
        match result {
            Ok(()) => {
                st.delivered += batch.len() as u64;
                st.last_error = None;
                if all_written {
                    st.flushed = st.flushed.max(flush_to);
                }
            }
            Err(DeliveryError::Rejected(e)) => {
                st.dropped += batch.len() as u64;
                st.failures += 1;
                st.last_error = Some(format!("rejected: {e}"));
            }
            Err(DeliveryError::Retryable(e)) => {
                st.failures += 1;
                if st.last_error.as_deref() != Some(&e) {
                    eprintln!(
                        "oisp-sensor: warning: sink {} ({}): {e}; retrying",
                        s.name, s.target
                    );
                }
                st.last_error = Some(e);
                // Put the batch back in front (a chunk may have been written: the store ignores
                // duplicates by event id; a file may get a line twice, never lose one).
                for item in batch.into_iter().rev() {
                    st.buf.push_front(item);
                }
                if st.stop {
                    let lost = st.buf.len() as u64;
                    st.dropped += lost;
                    st.buf.clear();
                    eprintln!(
                        "oisp-sensor: warning: sink {} ({}): stopping with {lost} events not written: {}",
                        s.name,
                        s.target,
                        st.last_error.as_deref().unwrap_or("")
                    );
                    drop(st);
                    s.progress.notify_all();
                    return;
                }
                drop(st);
                s.progress.notify_all();
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        }
        drop(st);
        s.progress.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    struct Slow {
        got: Arc<Mutex<Vec<String>>>,
        fail: Arc<AtomicBool>,
    }

    impl Sink for Slow {
        fn kind(&self) -> &'static str {
            "test"
        }
        fn target(&self) -> String {
            "memory".into()
        }
        fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
            if self.fail.load(Ordering::SeqCst) {
                return Err(DeliveryError::Retryable("disk full".into()));
            }
            std::thread::sleep(Duration::from_millis(2));
            let mut g = self.got.lock().unwrap();
            g.extend(batch.iter().map(|i| i.event.event_id.clone()));
            Ok(())
        }
        fn max_batch(&self) -> usize {
            100
        }
    }

    fn item(n: usize) -> Item {
        let mut ev: oisp_event::Event = serde_json::from_str(include_str!(
            "../../../vendor/oisp-spec/examples/process-exec.json"
        ))
        .unwrap();
        ev.event_id = format!("e{n:06}");
        Item::new(ev).unwrap()
    }

    #[test]
    fn writes_everything_in_order_and_survives_a_failing_spell() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicBool::new(false));
        let t = ThreadedSink::spawn(
            "t",
            Box::new(Slow {
                got: Arc::clone(&got),
                fail: Arc::clone(&fail),
            }),
        );
        for n in 0..3000 {
            t.send(item(n));
        }
        assert!(t.flush(Duration::from_secs(10)));
        fail.store(true, Ordering::SeqCst);
        for n in 3000..3500 {
            t.send(item(n));
        }
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(t.health().state, SinkState::Retrying);
        fail.store(false, Ordering::SeqCst);
        let h = t.shutdown(Duration::from_secs(10));
        assert_eq!((h.delivered, h.queued, h.dropped), (3500, 0, 0));
        let got = got.lock().unwrap();
        let want: Vec<String> = (0..3500).map(|n| format!("e{n:06}")).collect();
        assert_eq!(*got, want);
    }
}
