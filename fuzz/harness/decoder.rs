//! `decoder`: bytes → `read_all` → the full `Decoder`.

use oisp_capture::read_all;
use oisp_decode::conn::{Limits, TrackerConfig};
use oisp_decode::{Decoder, DecoderConfig};

/// Runs one input through a full `Decoder` (push every record, `finish`); must never panic.
pub fn run(data: &[u8]) {
    let (records, _err) = read_all(data);
    let mut dec = Decoder::new(DecoderConfig {
        tracker: TrackerConfig {
            limits: Limits {
                max_body: 1 << 20,
                max_head: 64 << 10,
            },
            ..TrackerConfig::default()
        },
        // Fixtures are client views; server-side decoding doubles the paths exercised.
        include_server_side: records.len() % 2 == 1,
        ..DecoderConfig::default()
    });
    let mut out = Vec::new();
    for r in &records {
        dec.push(r, &mut out);
    }
    dec.finish(&mut out);
    let _ = dec.stats();
    let _ = dec.connections();
}
