//! [`Pipeline`]: decoded events through the global filter and redaction into the sinks.

use anyhow::Result;
use oisp_capture::RawRecord;
use oisp_decode::{CaptureDecoder, DecodeStats};
use oisp_event::Event;
use oisp_redact::Redactor;
use oisp_sinks::filter::EventMatcher;
use oisp_sinks::{SinkHealth, SinkSet};
use std::time::Duration;

/// Decodes records, filters and redacts the events, and sends them to the sinks.
///
/// Contract: [`begin_capture`](Self::begin_capture) with a capture's metadata, then its records
/// ([`push`](Self::push)) in capture order, then [`finish`](Self::finish) before an independent
/// capture begins. [`close`](Self::close) ends everything. What a user sees from a replayed
/// capture is exactly what live capture would have produced: every command goes through here.
pub struct Pipeline {
    decoder: CaptureDecoder,
    redactor: Redactor,
    filter: EventMatcher,
    sinks: SinkSet,
    buf: Vec<Event>,
    written: u64,
    /// Events the global filter kept out of every sink.
    filtered: u64,
}

impl Pipeline {
    pub fn new(sinks: SinkSet, redactor: Redactor, filter: EventMatcher) -> Self {
        Pipeline {
            decoder: CaptureDecoder::default(),
            redactor,
            filter,
            sinks,
            buf: Vec::new(),
            written: 0,
            filtered: 0,
        }
    }

    /// Configures decoding for a capture whose `.oraw` header metadata is `meta` (see
    /// [`CaptureDecoder::begin_capture`]).
    pub fn begin_capture(&mut self, meta: &str) -> Result<()> {
        self.decoder.begin_capture(meta, &mut self.buf);
        self.drain()
    }

    /// Decodes one record and hands the events it completes on.
    pub fn push(&mut self, rec: &RawRecord) -> Result<()> {
        self.decoder.push(rec, &mut self.buf);
        self.drain()
    }

    /// Ends the current capture: flushes its open connections and the output. The pipeline can
    /// then take another, independent capture (connection ids start afresh).
    pub fn finish(&mut self) -> Result<()> {
        self.decoder.finish_capture(&mut self.buf);
        self.drain()?;
        self.sinks.flush();
        Ok(())
    }

    fn drain(&mut self) -> Result<()> {
        for mut ev in self.buf.drain(..) {
            if !self.filter.matches(&ev) {
                self.filtered += 1;
                continue;
            }
            self.redactor.apply(&mut ev);
            self.sinks.send(ev);
            self.written += 1;
        }
        Ok(())
    }

    /// Writes what local sinks hold (store, JSONL), so readers (`show --follow`) see it now.
    pub fn flush(&mut self) -> Result<()> {
        self.sinks.flush();
        Ok(())
    }

    /// Events handed to the sinks.
    pub fn events_written(&self) -> u64 {
        self.written
    }

    /// Events the global `[filter]` kept out.
    pub fn events_filtered(&self) -> u64 {
        self.filtered
    }

    pub fn sinks(&self) -> &SinkSet {
        &self.sinks
    }

    /// Swaps in new redaction, filter and sinks (SIGHUP reload). Events decoded so far went to the
    /// old sinks; the old set is returned to be shut down by the caller.
    pub fn reconfigure(
        &mut self,
        sinks: SinkSet,
        redactor: Redactor,
        filter: EventMatcher,
    ) -> Result<SinkSet> {
        self.drain()?;
        self.sinks.flush();
        self.redactor = redactor;
        self.filter = filter;
        Ok(std::mem::replace(&mut self.sinks, sinks))
    }

    /// Ends the pipeline: finishes decoding and stops the sinks (network sinks get up to
    /// `timeout` to deliver; the rest stays in their disk queues). Returns each sink's health.
    pub fn close(mut self, timeout: Duration) -> Result<Vec<(String, SinkHealth)>> {
        self.finish()?;
        Ok(self.sinks.shutdown(timeout))
    }

    /// Client connections the decoder found to carry no AI traffic since the last call (see
    /// `oisp_decode::Decoder::drain_ignorable`), into `out`.
    pub fn drain_ignorable(&mut self, out: &mut Vec<u64>) {
        self.decoder.drain_ignorable(out);
    }

    /// Counters over every capture this pipeline decoded.
    /// The processes that made AI calls in the current capture (for `status`).
    pub fn ai_processes(&self) -> Vec<oisp_decode::ProcessAi> {
        self.decoder.ai_processes()
    }

    pub fn stats(&self) -> DecodeStats {
        self.decoder.stats()
    }
}
