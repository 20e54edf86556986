//! `default_path` (its own test binary: it sets environment variables).

use std::path::PathBuf;

#[test]
fn default_path_follows_the_environment() {
    std::env::set_var("OISP_STORE", "/tmp/x/events.db");
    assert_eq!(
        oisp_store::default_path(),
        PathBuf::from("/tmp/x/events.db")
    );
    std::env::set_var("OISP_STORE", "");
    std::env::set_var("XDG_DATA_HOME", "/tmp/xdg");
    std::env::set_var("HOME", "/tmp/home");
    let p = oisp_store::default_path();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        assert_eq!(p, PathBuf::from("/var/lib/oisp-sensor/events.db"));
    } else {
        assert_eq!(p, PathBuf::from("/tmp/xdg/oisp-sensor/events.db"));
        std::env::remove_var("XDG_DATA_HOME");
        assert_eq!(
            oisp_store::default_path(),
            PathBuf::from("/tmp/home/.local/share/oisp-sensor/events.db")
        );
    }
}
