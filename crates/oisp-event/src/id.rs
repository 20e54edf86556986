//! Event identifiers (ULIDs).
//!
//! Two constructors: [`event_id_from`] is a pure function for the decode
//! path (same inputs, same id — replaying a capture yields identical events),
//! and [`new_event_id`] draws fresh randomness for live code that has no
//! natural seed.

use sha2::{Digest, Sha256};
use ulid::Ulid;

/// Domain-separation prefix hashed before the caller's seed.
const SEED_DOMAIN: &[u8] = b"oisp-event/event-id/v1\0";

/// Deterministic ULID: the 48-bit millisecond timestamp is
/// `wall_ns / 1_000_000` (masked to 48 bits) and the 80 random bits are the
/// first 10 bytes of `SHA-256(SEED_DOMAIN || entropy_seed)`.
///
/// No clock and no RNG are consulted. Uniqueness rests on the seed: callers
/// must make it unique per event (e.g. capture file id, connection id,
/// sequence number and event kind). Output is the 26-character Crockford
/// base32 text form.
pub fn event_id_from(wall_ns: u64, entropy_seed: &[u8]) -> String {
    let ms = (wall_ns / 1_000_000) & ((1u64 << 48) - 1);
    let digest = Sha256::new()
        .chain_update(SEED_DOMAIN)
        .chain_update(entropy_seed)
        .finalize();
    let mut random = [0u8; 16];
    random[6..].copy_from_slice(&digest[..10]);
    Ulid::from_parts(ms, u128::from_be_bytes(random)).to_string()
}

/// A fresh ULID from the system clock and thread-local randomness. For live
/// code only; decoders must use [`event_id_from`].
pub fn new_event_id() -> String {
    Ulid::new().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_time_ordered() {
        let a = event_id_from(1_766_434_505_123_456_789, b"conn-1/0");
        assert_eq!(a, event_id_from(1_766_434_505_123_456_789, b"conn-1/0"));
        assert_ne!(a, event_id_from(1_766_434_505_123_456_789, b"conn-1/1"));
        assert_eq!(a.len(), 26);
        let parsed = Ulid::from_string(&a).unwrap();
        assert_eq!(parsed.timestamp_ms(), 1_766_434_505_123);
        let later = event_id_from(1_766_434_505_124_000_000, b"conn-1/0");
        assert!(later > a);
        assert_eq!(new_event_id().len(), 26);
    }
}
