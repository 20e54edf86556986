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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Tee;
    use crate::{read_all, Lost, RawWriter, Timestamp};

    fn capture(meta: &str, n: u64) -> Vec<u8> {
        let mut w = RawWriter::new(Vec::new(), meta).unwrap();
        for count in 1..=n {
            w.write(&RawRecord::Lost(Lost {
                ts: Timestamp::default(),
                origin: "test".into(),
                count,
            }))
            .unwrap();
        }
        w.into_inner().unwrap()
    }

    fn drain(s: &mut dyn Source) -> (Vec<RawRecord>, Vec<Progress>) {
        let (mut out, mut seen) = (Vec::new(), Vec::new());
        loop {
            let p = s.poll(Duration::ZERO, &mut out).unwrap();
            seen.push(p);
            if p == Progress::End {
                return (out, seen);
            }
        }
    }

    #[test]
    fn records_before_damage_come_before_the_error() {
        let bytes = capture("{}", 3);
        let cut = &bytes[..bytes.len() - 2];
        let mut s = ReplaySource::new(cut).unwrap();
        let mut out = Vec::new();
        let e = s.poll(Duration::ZERO, &mut out).unwrap_err();
        assert_eq!(out.len(), 2);
        assert!(e.to_string().contains("at byte"), "{e}");
        assert_eq!(s.stats().records, 2);
    }

    #[test]
    fn a_sequence_ends_each_capture_and_switches_metadata() {
        let a = capture(r#"{"system_records":"procfs"}"#, 2);
        let b = capture(r#"{"system_records":"kernel"}"#, REPLAY_BATCH as u64 + 1);
        let mut s = SequenceSource::new(vec![("a".into(), &a[..]), ("b".into(), &b[..])]).unwrap();
        assert!(s.meta().contains("procfs"));
        let mut out = Vec::new();
        assert_eq!(
            s.poll(Duration::ZERO, &mut out).unwrap(),
            Progress::CaptureEnded
        );
        assert!(s.meta().contains("kernel"));
        let (rest, seen) = drain(&mut s);
        assert_eq!(seen, vec![Progress::More, Progress::End]);
        assert_eq!(out.len() + rest.len(), REPLAY_BATCH + 3);
        assert_eq!(s.stats().records, REPLAY_BATCH as u64 + 3);
    }

    #[test]
    fn a_damaged_capture_of_a_sequence_is_named() {
        let a = capture("{}", 2);
        let e = SequenceSource::new(vec![("broken".into(), &a[..10])])
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "raw capture broken");
    }

    #[test]
    fn a_tee_writes_what_it_passes_on() {
        let bytes = capture(r#"{"created_by":"test"}"#, 5);
        let inner = ReplaySource::new(&bytes[..]).unwrap();
        let mut tee = Tee::new(inner, Some(Vec::new())).unwrap();
        let (out, _) = drain(&mut tee);
        tee.flush().unwrap();
        assert_eq!(out, read_all(&bytes).0);
        let copy = tee.into_writer().unwrap().unwrap();
        assert_eq!(copy, bytes);
    }
}
