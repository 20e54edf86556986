//! The one seam every capture source implements: [`Source`].
//!
//! A source produces [`RawRecord`]s and nothing else. One loop (`oisp_pipeline::run`) drives any
//! source into the pipeline: it polls, decodes what came, hands the decoder's verdict on
//! connections without AI traffic back through [`Source::ignore_connection`], and starts a fresh
//! decoder when a source says one capture ended and another begins ([`Progress::CaptureEnded`]).
//!
//! Implementations: `oisp_ebpf::EbpfCapture` (live), [`ReplaySource`](crate::ReplaySource) (a
//! `.oraw` stream), [`SequenceSource`](crate::SequenceSource) (several captures one after the
//! other, `demo`), and [`Tee`] (any source, every record also written to a raw capture file).

use crate::{RawError, RawRecord, RawWriter};
use std::io::Write;
use std::time::Duration;

/// What a [`Source::poll`] says about the records it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// More records may come.
    More,
    /// The records so far closed one independent capture; the next ones start another, whose
    /// metadata [`Source::meta`] now returns. Connection ids start afresh: the consumer finishes
    /// its decoder and makes a new one configured from the new metadata.
    CaptureEnded,
    /// Nothing more will come (after [`Source::finish`]).
    End,
}

/// Counters of a source, as `record` and `status` show them. Fields a source has no notion of
/// stay 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Records produced.
    pub records: u64,
    /// Plaintext (TLS data) records lost before they reached the source (e.g. a full ring).
    pub lost_data: u64,
    /// Process/file/network records lost before they reached the source.
    pub lost_system: u64,
    /// Plaintext bytes cut off oversized calls.
    pub truncated_bytes: u64,
    /// Connections handed to [`Source::ignore_connection`] that the source stopped copying.
    pub ignored_sessions: u64,
    /// Calls skipped without a copy (server-side and ignored sessions).
    pub skipped_calls: u64,
    /// Records of kinds this build does not know, skipped (raw capture files).
    pub skipped_unknown: u64,
}

/// Why a source failed. Records a failing `poll` appended to its output before the error are
/// valid and are decoded before the error is reported.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A raw capture could not be read (or written, by [`Tee`]); the message names the byte
    /// offset.
    #[error(transparent)]
    Raw(#[from] RawError),
    /// A named capture of a sequence could not be read.
    #[error("raw capture {name}")]
    Capture {
        name: String,
        #[source]
        source: RawError,
    },
    /// Anything else (e.g. `oisp_ebpf::CaptureError`), shown as it is.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// One thing a source observes through (a probe and where it sits), or a place it found and
/// could not observe (`refused`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// e.g. `uprobe`, `uprobe.session`, `tracepoint`; `refused` for a place not observed.
    pub kind: String,
    /// What is hooked (a function and how it was found, a tracepoint), or why it was refused.
    pub what: String,
    /// The file or tracepoint category.
    pub path: String,
}

/// A capture source.
///
/// Contract: [`poll`](Self::poll) is called until it returns [`Progress::End`] or an error;
/// then [`finish`](Self::finish) once (not after an error). Records come in capture order.
pub trait Source {
    /// The current capture's metadata JSON, as in a `.oraw` header (`{"created_by":…,
    /// "system_records":"kernel"}` for eBPF; what the file says for a replay). The consumer
    /// configures its decoder from it (`oisp_decode::SystemRecordOrigin::from_capture_meta`).
    fn meta(&self) -> &str;

    /// Appends the records available within `timeout` to `out` (a file source returns at once)
    /// and says whether more may come. On error the records appended before it are valid.
    fn poll(
        &mut self,
        timeout: Duration,
        out: &mut Vec<RawRecord>,
    ) -> Result<Progress, SourceError>;

    /// Appends what the source still holds at the end (sessions waiting for their socket, final
    /// loss counts).
    fn finish(&mut self, out: &mut Vec<RawRecord>);

    /// Counters so far.
    fn stats(&self) -> SourceStats;

    /// The decoder found client connection `conn_id` to carry no AI traffic
    /// (`Pipeline::drain_ignorable`): the source may stop copying its data. True when the source
    /// knew the connection and will skip it. Default: ignored (nothing to save).
    fn ignore_connection(&mut self, conn_id: u64) -> bool {
        let _ = conn_id;
        false
    }

    /// What the source observes through, for `status`, as it is now (eBPF: every probe attached,
    /// including those attached after start, and every file refused). Default: nothing.
    fn observed(&self) -> Vec<Observation> {
        Vec::new()
    }
}

/// A source whose every record is also written to a raw capture file (`record --raw-out`), with
/// the inner source's metadata in the header. Without a writer it passes records through.
pub struct Tee<S, W: Write> {
    inner: S,
    writer: Option<RawWriter<W>>,
    /// A write error of `finish`, reported by `flush`.
    failed: Option<RawError>,
}

impl<S: Source, W: Write> Tee<S, W> {
    /// Writes the header (the inner source's metadata) to `out`, when given.
    pub fn new(inner: S, out: Option<W>) -> Result<Self, RawError> {
        let writer = match out {
            Some(w) => Some(RawWriter::new(w, inner.meta())?),
            None => None,
        };
        Ok(Tee {
            inner,
            writer,
            failed: None,
        })
    }

    /// The wrapped source.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Flushes the raw file (call after the run; a write error is reported here).
    pub fn flush(&mut self) -> Result<(), RawError> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        match &mut self.writer {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }

    /// The raw file's writer back (flushed), when there is one.
    pub fn into_writer(self) -> Result<Option<W>, RawError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        self.writer.map(RawWriter::into_inner).transpose()
    }

    fn write(&mut self, recs: &[RawRecord]) -> Result<(), RawError> {
        if let Some(w) = &mut self.writer {
            for r in recs {
                w.write(r)?;
            }
        }
        Ok(())
    }
}

impl<S: Source, W: Write> Source for Tee<S, W> {
    fn meta(&self) -> &str {
        self.inner.meta()
    }

    fn poll(
        &mut self,
        timeout: Duration,
        out: &mut Vec<RawRecord>,
    ) -> Result<Progress, SourceError> {
        let start = out.len();
        let progress = self.inner.poll(timeout, out);
        self.write(&out[start..])?;
        progress
    }

    fn finish(&mut self, out: &mut Vec<RawRecord>) {
        let start = out.len();
        self.inner.finish(out);
        if let Err(e) = self.write(&out[start..]) {
            self.failed = Some(e);
        }
    }

    fn stats(&self) -> SourceStats {
        self.inner.stats()
    }

    fn ignore_connection(&mut self, conn_id: u64) -> bool {
        self.inner.ignore_connection(conn_id)
    }

    fn observed(&self) -> Vec<Observation> {
        self.inner.observed()
    }
}
