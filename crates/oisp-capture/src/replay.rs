//! Sources over raw capture files: [`ReplaySource`] (one `.oraw` stream, `replay`) and
//! [`SequenceSource`] (several, one after the other, each its own capture: `demo`).

use crate::source::{Progress, Source, SourceError, SourceStats};
use crate::{RawError, RawReader, RawRecord};
use std::io::Read;
use std::time::Duration;

/// Records a file source hands out per poll (bounds memory; a file never waits).
pub const REPLAY_BATCH: usize = 1024;

/// One raw capture stream as a [`Source`]. `poll` returns at once with up to
/// [`REPLAY_BATCH`] records; a read error comes after the records read before it (which are
/// valid), with the byte offset where the capture is damaged.
pub struct ReplaySource<R: Read> {
    reader: RawReader<R>,
    records: u64,
    done: bool,
}

impl<R: Read> ReplaySource<R> {
    /// Reads and checks the header.
    pub fn new(input: R) -> Result<Self, RawError> {
        Ok(ReplaySource {
            reader: RawReader::new(input)?,
            records: 0,
            done: false,
        })
    }

    /// Like [`Source::poll`], with the reader's own error.
    fn read(&mut self, out: &mut Vec<RawRecord>) -> Result<Progress, RawError> {
        if self.done {
            return Ok(Progress::End);
        }
        for _ in 0..REPLAY_BATCH {
            match self.reader.next_record() {
                Ok(Some(r)) => {
                    self.records += 1;
                    out.push(r);
                }
                Ok(None) => {
                    self.done = true;
                    return Ok(Progress::End);
                }
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
        Ok(Progress::More)
    }
}

impl<R: Read> Source for ReplaySource<R> {
    fn meta(&self) -> &str {
        self.reader.meta()
    }

    fn poll(&mut self, _: Duration, out: &mut Vec<RawRecord>) -> Result<Progress, SourceError> {
        Ok(self.read(out)?)
    }

    fn finish(&mut self, _: &mut Vec<RawRecord>) {}

    fn stats(&self) -> SourceStats {
        SourceStats {
            records: self.records,
            skipped_unknown: self.reader.skipped_unknown(),
            ..Default::default()
        }
    }
}

/// Named raw captures replayed one after the other, each an independent capture: between two,
/// `poll` returns [`Progress::CaptureEnded`] and [`Source::meta`] turns to the next one's
/// metadata. Errors name the capture (`raw capture NAME: …`).
pub struct SequenceSource<R: Read> {
    /// The captures not yet opened, in order.
    pending: std::vec::IntoIter<(String, R)>,
    current: Option<(String, ReplaySource<R>)>,
    /// Counters of the captures already read.
    done: SourceStats,
}

impl<R: Read> SequenceSource<R> {
    /// Opens the first capture (an empty list is a source that ends at once).
    pub fn new(captures: Vec<(String, R)>) -> Result<Self, SourceError> {
        let mut s = SequenceSource {
            pending: captures.into_iter(),
            current: None,
            done: SourceStats::default(),
        };
        s.open_next()?;
        Ok(s)
    }

    /// Closes the current capture and opens the next; false when none is left.
    fn open_next(&mut self) -> Result<bool, SourceError> {
        if let Some((_, cur)) = self.current.take() {
            let s = cur.stats();
            self.done.records += s.records;
            self.done.skipped_unknown += s.skipped_unknown;
        }
        let Some((name, input)) = self.pending.next() else {
            return Ok(false);
        };
        match ReplaySource::new(input) {
            Ok(src) => {
                self.current = Some((name, src));
                Ok(true)
            }
            Err(source) => Err(SourceError::Capture { name, source }),
        }
    }
}

impl<R: Read> Source for SequenceSource<R> {
    fn meta(&self) -> &str {
        self.current.as_ref().map_or("", |(_, c)| c.meta())
    }

    fn poll(&mut self, _: Duration, out: &mut Vec<RawRecord>) -> Result<Progress, SourceError> {
        let Some((name, cur)) = self.current.as_mut() else {
            return Ok(Progress::End);
        };
        match cur.read(out) {
            Ok(Progress::End) => Ok(if self.open_next()? {
                Progress::CaptureEnded
            } else {
                Progress::End
            }),
            Ok(p) => Ok(p),
            Err(source) => Err(SourceError::Capture {
                name: name.clone(),
                source,
            }),
        }
    }

    fn finish(&mut self, _: &mut Vec<RawRecord>) {}

    fn stats(&self) -> SourceStats {
        let mut s = self.done;
        if let Some((_, cur)) = &self.current {
            let c = cur.stats();
            s.records += c.records;
            s.skipped_unknown += c.skipped_unknown;
        }
        s
    }
}
