//! Test support: `tools/go-client` built with this machine's Go (unstripped and stripped), once
//! per test run, into a temporary directory. `None` (and why, printed) when there is no `go`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The client's source directory.
pub(crate) fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/go-client")
}

/// Builds `tools/go-client` into `out` (`stripped`: `-ldflags=-s -w`), with the local toolchain
/// only (nothing downloaded); panics when `go build` fails.
pub(crate) fn build(out: &Path, stripped: bool) {
    let mut c = Command::new("go");
    c.arg("build").arg("-o").arg(out);
    if stripped {
        c.arg("-ldflags=-s -w");
    }
    let o = c
        .arg(".")
        .current_dir(source_dir())
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0")
        .output()
        .expect("run go build");
    assert!(
        o.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// (unstripped, stripped) builds of the client, made once.
pub(crate) fn go_client() -> Option<&'static (PathBuf, PathBuf)> {
    static BUILT: OnceLock<Option<(PathBuf, PathBuf)>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if Command::new("go").arg("version").output().is_err() {
                eprintln!("skipped: no `go` on PATH (scripts/install-deps.sh installs golang-go)");
                return None;
            }
            let dir = std::env::temp_dir().join(format!("oisp-go-client-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let (plain, stripped) = (dir.join("go-client"), dir.join("go-client-stripped"));
            build(&plain, false);
            build(&stripped, true);
            Some((plain, stripped))
        })
        .as_ref()
}
