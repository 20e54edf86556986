//! Writing raw capture files.

use super::codec::encode;
use super::{RawError, FORMAT_VERSION, MAGIC, MAX_BODY_LEN};
use crate::record::{DataChunk, RawRecord};
use std::io::Write;

/// Appends records to a raw capture stream.
///
/// The header (magic, version, metadata JSON) is written by [`RawWriter::new`]. A `Data` record
/// whose body would exceed the format's 64 MiB limit is split into several consecutive chunks
/// with adjusted `seq`, so any record the capture layer produces can be written.
pub struct RawWriter<W: Write> {
    out: W,
    body: Vec<u8>,
    records: u64,
}

impl<W: Write> RawWriter<W> {
    /// Starts a capture stream on `out`; `meta_json` is stored verbatim (use "{}" for none).
    pub fn new(mut out: W, meta_json: &str) -> Result<Self, RawError> {
        out.write_all(MAGIC)?;
        out.write_all(&FORMAT_VERSION.to_le_bytes())?;
        out.write_all(&0u16.to_le_bytes())?;
        out.write_all(&(meta_json.len() as u32).to_le_bytes())?;
        out.write_all(meta_json.as_bytes())?;
        Ok(RawWriter {
            out,
            body: Vec::with_capacity(4096),
            records: 0,
        })
    }

    /// Appends one record.
    pub fn write(&mut self, rec: &RawRecord) -> Result<(), RawError> {
        if let RawRecord::Data(d) = rec {
            // Leave room for the fixed fields of a Data body.
            let max_payload = (MAX_BODY_LEN as usize) - 128;
            if d.bytes.len() > max_payload {
                return self.write_split(d, max_payload);
            }
        }
        let tag = encode(rec, &mut self.body);
        self.out.write_all(&[tag])?;
        self.out
            .write_all(&(self.body.len() as u32).to_le_bytes())?;
        self.out.write_all(&self.body)?;
        self.records += 1;
        Ok(())
    }

    fn write_split(&mut self, d: &DataChunk, max_payload: usize) -> Result<(), RawError> {
        let mut offset = 0usize;
        let pieces = d.bytes.chunks(max_payload).count();
        for (i, piece) in d.bytes.chunks(max_payload).enumerate() {
            let part = DataChunk {
                seq: d.seq + offset as u64,
                bytes: piece.to_vec(),
                truncated_len: if i + 1 == pieces { d.truncated_len } else { 0 },
                ..d.clone()
            };
            self.write(&RawRecord::Data(part))?;
            offset += piece.len();
        }
        Ok(())
    }

    /// Number of records written so far.
    pub fn records_written(&self) -> u64 {
        self.records
    }

    /// Flushes buffered output.
    pub fn flush(&mut self) -> Result<(), RawError> {
        self.out.flush()?;
        Ok(())
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> Result<W, RawError> {
        self.out.flush()?;
        Ok(self.out)
    }
}
