//! `default_path` (its own test binary: it sets environment variables).

use std::path::PathBuf;

#[test]
fn default_path_follows_the_environment() {
    std::env::set_var("OISP_STORE", "/tmp/x/events.db");
    assert_eq!(
        oisp_store::default_path(),
        PathBuf::from("/tmp/x/events.db")
    );
    // Empty means unset: the data directory's rules (tested in oisp-os) apply.
    std::env::set_var("OISP_STORE", "");
    assert_eq!(
        oisp_store::default_path(),
        oisp_os::data_dir().join("events.db")
    );
}
