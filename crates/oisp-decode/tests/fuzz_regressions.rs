//! Regression tests for crashes found by the cargo-fuzz targets in `fuzz/` (each input is also
//! kept in `fuzz/corpus/<target>/` and replayed by `fuzz_corpus.rs`).

use oisp_decode::providers::{cost_usd, find_model, ProviderId};

/// `providers` target: a model name whose 11th byte from the end falls inside a multi-byte
/// character made the `-YYYY-MM-DD` snapshot check slice a `str` off a char boundary.
#[test]
fn pricing_non_ascii_model_name_does_not_panic() {
    for model in [
        "m\u{20ac}0123456789",
        "claude-sonnet-4-6\u{fffd}\u{fffd}",
        "\u{fffd}-2024-01-0\u{e9}",
    ] {
        for p in [
            ProviderId::Anthropic,
            ProviderId::OpenAi,
            ProviderId::Unknown,
        ] {
            let _ = find_model(p, model);
            let _ = cost_usd(p, model, &Default::default());
        }
    }
    // The snapshot suffix is still stripped after a non-ASCII base.
    let m = find_model(ProviderId::OpenAi, "gpt-4o-2024-08-06");
    assert!(m.is_some());
}
