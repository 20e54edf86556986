//! The capture seam: [`RawRecord`] and the raw capture file format (see `docs/raw-format.md`).
//!
//! Capture sources (eBPF, proxy, replay) produce `RawRecord`s and nothing else, behind one trait,
//! [`Source`]; the decoder consumes them. A stream of records can be saved with [`RawWriter`] and read back with
//! [`RawReader`], which is how decoding is tested without root and how captures are shared.

mod container;
mod rawfile;
mod record;
mod replay;
pub mod source;

pub use container::ContainerInfo;
pub use rawfile::{RawError, RawReader, RawWriter, FORMAT_VERSION, MAGIC, MAX_BODY_LEN};
pub use record::*;
pub use replay::{ReplaySource, SequenceSource, REPLAY_BATCH};
pub use source::{Observation, Progress, Source, SourceError, SourceStats, Tee};

/// Reads every record of a raw capture held in memory. Stops at the first error, returning the
/// records read before it together with the error.
pub fn read_all(bytes: &[u8]) -> (Vec<RawRecord>, Option<RawError>) {
    let mut reader = match RawReader::new(bytes) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut out = Vec::new();
    loop {
        match reader.next_record() {
            Ok(Some(r)) => out.push(r),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}
