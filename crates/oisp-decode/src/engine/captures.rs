//! Decoding one capture after another: the one decode path of the sensor (`record`, `replay`,
//! `demo` through `oisp_pipeline::Pipeline`) and of [`decode_capture`](super::decode_capture),
//! [`decode_records_with`](super::decode_records_with), the test kit and the benchmarks.

use super::{DecodeStats, Decoder, DecoderConfig, SystemRecordOrigin};
use oisp_capture::RawRecord;
use oisp_event::Event;

/// A [`Decoder`] for a sequence of independent captures.
///
/// Contract: [`begin_capture`](Self::begin_capture) with each capture's metadata (the `.oraw`
/// header's JSON) configures how its process/file/network records were observed; records are
/// [`push`](Self::push)ed in capture order; [`finish_capture`](Self::finish_capture) ends a
/// capture (open connections flushed, counters kept) so the next one starts with fresh
/// connection ids and event-id counter. [`stats`](Self::stats) adds up every capture's
/// [`DecodeStats`].
pub struct CaptureDecoder {
    decoder: Decoder,
    /// Counters of the captures already finished.
    done: DecodeStats,
}

impl Default for CaptureDecoder {
    fn default() -> Self {
        CaptureDecoder::new(DecoderConfig::default())
    }
}

impl CaptureDecoder {
    /// `cfg` applies to every capture; its `system_records` until a capture's metadata says
    /// otherwise.
    pub fn new(cfg: DecoderConfig) -> Self {
        CaptureDecoder {
            decoder: Decoder::new(cfg),
            done: DecodeStats::default(),
        }
    }

    /// Starts a capture whose header metadata is `meta`
    /// ([`SystemRecordOrigin::from_capture_meta`]). When the origin differs from the current
    /// one, what the decoder holds is finished into `out` and a decoder configured for the new
    /// origin takes over; otherwise decoding continues with the same decoder.
    pub fn begin_capture(&mut self, meta: &str, out: &mut Vec<Event>) {
        let origin = SystemRecordOrigin::from_capture_meta(meta);
        if origin != self.decoder.cfg.system_records {
            let cfg = DecoderConfig {
                system_records: origin,
                ..self.decoder.cfg.clone()
            };
            self.replace(cfg, out);
        }
    }

    /// Decodes one record, appending the events it completes to `out` in order.
    pub fn push(&mut self, rec: &RawRecord, out: &mut Vec<Event>) {
        self.decoder.push(rec, out);
    }

    /// Ends the current capture: flushes its open connections into `out`; the next records
    /// start a new capture with the same configuration.
    pub fn finish_capture(&mut self, out: &mut Vec<Event>) {
        let cfg = self.decoder.cfg.clone();
        self.replace(cfg, out);
    }

    fn replace(&mut self, cfg: DecoderConfig, out: &mut Vec<Event>) {
        self.decoder.finish(out);
        let finished = std::mem::replace(&mut self.decoder, Decoder::new(cfg));
        self.done += finished.stats();
    }

    /// See [`Decoder::drain_ignorable`].
    pub fn drain_ignorable(&mut self, out: &mut Vec<u64>) {
        self.decoder.drain_ignorable(out);
    }

    /// How the current capture's process/file/network records were observed.
    pub fn system_records(&self) -> SystemRecordOrigin {
        self.decoder.cfg.system_records
    }

    /// The processes that made AI calls in the current capture.
    pub fn ai_processes(&self) -> Vec<super::ProcessAi> {
        self.decoder.ai_processes()
    }

    /// Counters over every capture decoded so far, the current one included.
    pub fn stats(&self) -> DecodeStats {
        let mut total = self.done;
        total += self.decoder.stats();
        total
    }
}
