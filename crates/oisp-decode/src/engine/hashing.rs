//! Short, stable content hashes in the spec's `sha256:<hex>` form.

use sha2::{Digest, Sha256};

/// `sha256:` followed by the first 16 hex digits (64 bits) of SHA-256 of `bytes`: enough to
/// correlate equal contents, too short to brute-force meaningful secrets back.
pub fn short_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("sha256:{}", hex::encode(&digest[..8]))
}
