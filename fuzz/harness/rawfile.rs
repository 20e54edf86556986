//! `rawfile`: bytes → `oisp_capture::read_all`; every record read must survive `RawWriter` →
//! `read_all` unchanged.

use oisp_capture::{read_all, RawWriter};

/// Runs one input; panics when a re-encoded record does not read back equal.
pub fn run(data: &[u8]) {
    let (records, _err) = read_all(data);
    let mut w = RawWriter::new(Vec::new(), "{}").expect("writing to a Vec cannot fail");
    for r in &records {
        w.write(r).expect("writing to a Vec cannot fail");
    }
    assert_eq!(w.records_written(), records.len() as u64);
    let bytes = w.into_inner().expect("writing to a Vec cannot fail");
    let (back, err) = read_all(&bytes);
    assert!(err.is_none(), "re-encoded capture fails to read: {err:?}");
    assert_eq!(back, records, "records changed across write/read");
}
