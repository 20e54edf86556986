//! Runs raw records through decode and the actions (redaction, filter), and hands events to the
//! sinks.
//!
//! The one path every command uses (`demo`, `replay`, `record`), so what a user sees from a
//! replayed capture is exactly what live capture would have produced.

use anyhow::{Context, Result};
use oisp_capture::{RawReader, RawRecord};
use oisp_decode::{DecodeStats, Decoder, DecoderConfig, SystemRecordOrigin};
use oisp_event::Event;
use oisp_redact::Redactor;
use oisp_sinks::filter::EventMatcher;
use oisp_sinks::SinkSet;
use std::io::Read;

/// Decodes records, redacts and filters the events, and sends them to the sinks.
pub struct Pipeline {
    decoder: Decoder,
    redactor: Redactor,
    filter: EventMatcher,
    sinks: SinkSet,
    buf: Vec<Event>,
    written: u64,
    /// Events the global filter kept out of every sink.
    filtered: u64,
    /// Counters of captures already finished (see [`Pipeline::finish`]).
    done: DecodeStats,
    /// How the current decoder treats process/file/network records.
    system_records: SystemRecordOrigin,
}

impl Pipeline {
    pub fn new(sinks: SinkSet, redactor: Redactor, filter: EventMatcher) -> Self {
        Pipeline {
            decoder: Decoder::default(),
            redactor,
            filter,
            sinks,
            buf: Vec::new(),
            written: 0,
            filtered: 0,
            done: DecodeStats::default(),
            system_records: SystemRecordOrigin::default(),
        }
    }

    pub fn push(&mut self, rec: &RawRecord) -> Result<()> {
        self.decoder.push(rec, &mut self.buf);
        self.drain()
    }

    /// Decodes a whole raw capture stream. Records before a read error are decoded; the error is
    /// then returned with the byte offset where the capture is damaged.
    pub fn push_raw<R: Read>(&mut self, input: R, name: &str) -> Result<()> {
        let mut reader =
            RawReader::new(input).with_context(|| format!("cannot read raw capture {name}"))?;
        let origin = SystemRecordOrigin::from_capture_meta(reader.meta());
        if origin != self.system_records {
            // Each capture gets a decoder configured for how its records were observed.
            self.finish()?;
            self.system_records = origin;
            self.decoder = Decoder::new(DecoderConfig {
                system_records: origin,
                ..Default::default()
            });
        }
        loop {
            match reader.next_record() {
                Ok(Some(rec)) => self.push(&rec)?,
                Ok(None) => break,
                Err(e) => {
                    // Decode what was read so far before reporting the damage.
                    self.finish()?;
                    return Err(anyhow::Error::new(e).context(format!("raw capture {name}")));
                }
            }
        }
        if reader.skipped_unknown() > 0 {
            eprintln!(
                "oisp-sensor: warning: {name}: skipped {} records of kinds this build does not know",
                reader.skipped_unknown()
            );
        }
        Ok(())
    }

    /// Ends the current capture: flushes its open connections and the output. The pipeline can
    /// then take another, independent capture (connection ids start afresh).
    pub fn finish(&mut self) -> Result<()> {
        self.decoder.finish(&mut self.buf);
        let fresh = Decoder::new(DecoderConfig {
            system_records: self.system_records,
            ..Default::default()
        });
        let finished = std::mem::replace(&mut self.decoder, fresh);
        add_stats(&mut self.done, &finished.stats());
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
    pub fn close(
        mut self,
        timeout: std::time::Duration,
    ) -> Result<Vec<(String, oisp_sinks::SinkHealth)>> {
        self.finish()?;
        Ok(self.sinks.shutdown(timeout))
    }

    /// Client connections the decoder found to carry no AI traffic since the last call (see
    /// `oisp_decode::Decoder::drain_ignorable`), into `out`.
    pub fn drain_ignorable(&mut self, out: &mut Vec<u64>) {
        self.decoder.drain_ignorable(out);
    }

    /// Counters over every capture this pipeline decoded.
    pub fn stats(&self) -> DecodeStats {
        let mut total = self.done;
        add_stats(&mut total, &self.decoder.stats());
        total
    }
}

fn add_stats(total: &mut DecodeStats, s: &DecodeStats) {
    total.records += s.records;
    total.events += s.events;
    total.exchanges += s.exchanges;
    total.ai_calls += s.ai_calls;
    total.non_ai_exchanges += s.non_ai_exchanges;
    total.server_side_exchanges += s.server_side_exchanges;
    total.ignorable_conns += s.ignorable_conns;
    total.ignored_records += s.ignored_records;
    total.warnings += s.warnings;
    total.lost_records += s.lost_records;
    total.tracker.exchanges += s.tracker.exchanges;
    total.tracker.warnings += s.tracker.warnings;
    total.tracker.ignored_bytes += s.tracker.ignored_bytes;
    total.tracker.gap_bytes += s.tracker.gap_bytes;
}
