//! The capture seam: [`RawRecord`] and the raw capture file format (see `docs/raw-format.md`).

mod record;

pub use record::*;
