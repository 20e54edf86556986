//! The raw capture file format, version 1 (specified in `docs/raw-format.md`).
//!
//! [`RawWriter`] appends records to any `Write`; [`RawReader`] yields them back from any `Read`.
//! The reader never panics on malformed input: every problem is a [`RawError`] naming the byte
//! offset where it was found, and records before it remain readable.

mod codec;
mod reader;
mod writer;

pub use reader::RawReader;
pub use writer::RawWriter;

/// File magic: the first 8 bytes of every raw capture file.
pub const MAGIC: &[u8; 8] = b"OISPRAW\0";
/// The format version this crate writes.
pub const FORMAT_VERSION: u16 = 1;
/// Largest record body a reader accepts.
pub const MAX_BODY_LEN: u32 = 64 * 1024 * 1024;
/// Largest metadata block a reader accepts.
pub const MAX_META_LEN: u32 = 1024 * 1024;

/// Why a raw capture could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("not an oisp-sensor raw capture (bad magic)")]
    BadMagic,
    #[error("unsupported raw capture version {0} (this build reads version {FORMAT_VERSION})")]
    UnsupportedVersion(u16),
    #[error("file ends inside a record at byte {offset}: the capture is truncated")]
    Truncated { offset: u64 },
    #[error("record at byte {offset} is malformed: {reason}")]
    Malformed { offset: u64, reason: String },
    #[error(
        "record at byte {offset} declares {len} bytes, more than the {MAX_BODY_LEN}-byte limit"
    )]
    TooLarge { offset: u64, len: u32 },
}
