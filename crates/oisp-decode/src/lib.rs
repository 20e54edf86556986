//! Pure, deterministic decoding: raw records → HTTP exchanges → provider calls → OISP events.
//!
//! Nothing in this crate performs I/O, reads a clock or touches global state: the same records
//! always give the same events.

pub mod conn;
pub mod engine;
pub mod http;
pub mod providers;
pub mod ws;

pub use engine::{
    decode_capture, decode_records, decode_records_with, CaptureDecoder, DecodeStats, Decoder,
    DecoderConfig, ProcessAi, SystemRecordOrigin, CONNECT_DOMAIN_WAIT_NS, IGNORE_AFTER,
};
