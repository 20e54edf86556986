//! Reading raw capture files.

use super::codec::decode;
use super::{RawError, FORMAT_VERSION, MAGIC, MAX_BODY_LEN, MAX_META_LEN};
use crate::record::RawRecord;
use std::io::{ErrorKind, Read};

/// Reads records from a raw capture stream, one at a time.
///
/// Iterating yields `Result<RawRecord, RawError>`; after the first error the iterator ends
/// (a stream cannot be resynchronised without record boundaries). Records with unknown tags are
/// skipped and counted in [`RawReader::skipped_unknown`].
pub struct RawReader<R: Read> {
    input: R,
    meta: String,
    offset: u64,
    body: Vec<u8>,
    skipped_unknown: u64,
    failed: bool,
}

impl<R: Read> RawReader<R> {
    /// Reads and checks the header.
    pub fn new(mut input: R) -> Result<Self, RawError> {
        let mut head = [0u8; 16];
        match input.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Err(RawError::BadMagic),
            Err(e) => return Err(e.into()),
        }
        if &head[..8] != MAGIC {
            return Err(RawError::BadMagic);
        }
        let version = u16::from_le_bytes([head[8], head[9]]);
        if version != FORMAT_VERSION {
            return Err(RawError::UnsupportedVersion(version));
        }
        let meta_len = u32::from_le_bytes([head[12], head[13], head[14], head[15]]);
        if meta_len > MAX_META_LEN {
            return Err(RawError::Malformed {
                offset: 12,
                reason: format!("metadata length {meta_len} exceeds {MAX_META_LEN}"),
            });
        }
        let mut meta = vec![0u8; meta_len as usize];
        read_exact_or_truncated(&mut input, &mut meta, 16)?;
        Ok(RawReader {
            input,
            meta: String::from_utf8_lossy(&meta).into_owned(),
            offset: 16 + meta_len as u64,
            body: Vec::new(),
            skipped_unknown: 0,
            failed: false,
        })
    }

    /// The metadata JSON stored in the header.
    pub fn meta(&self) -> &str {
        &self.meta
    }

    /// Records skipped because their tag is unknown to this build.
    pub fn skipped_unknown(&self) -> u64 {
        self.skipped_unknown
    }

    /// Reads the next record; `Ok(None)` at a clean end of stream.
    pub fn next_record(&mut self) -> Result<Option<RawRecord>, RawError> {
        loop {
            let start = self.offset;
            let mut head = [0u8; 5];
            match read_full(&mut self.input, &mut head)? {
                0 => return Ok(None),
                5 => {}
                _ => return Err(RawError::Truncated { offset: start }),
            }
            let tag = head[0];
            let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
            if len > MAX_BODY_LEN {
                return Err(RawError::TooLarge { offset: start, len });
            }
            self.body.resize(len as usize, 0);
            read_exact_or_truncated(&mut self.input, &mut self.body, start)?;
            self.offset += 5 + len as u64;
            match decode(tag, &self.body) {
                Ok(Some(rec)) => return Ok(Some(rec)),
                Ok(None) => self.skipped_unknown += 1,
                Err(reason) => {
                    return Err(RawError::Malformed {
                        offset: start,
                        reason,
                    })
                }
            }
        }
    }
}

impl<R: Read> Iterator for RawReader<R> {
    type Item = Result<RawRecord, RawError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Reads until `buf` is full or EOF; returns how many bytes were read.
fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> Result<usize, RawError> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}

fn read_exact_or_truncated<R: Read>(
    input: &mut R,
    buf: &mut [u8],
    offset: u64,
) -> Result<(), RawError> {
    if read_full(input, buf)? < buf.len() {
        return Err(RawError::Truncated { offset });
    }
    Ok(())
}
