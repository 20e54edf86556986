//! Test support: `tools/go-client` built with this machine's Go (unstripped, stripped, stripped
//! position-independent) into `$TMPDIR/oisp-go-client`, rebuilt when its source is newer (each
//! build written aside and renamed into place, so concurrent runs never see half a file). `None`
//! (and why, printed) when there is no `go`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The client's source directory.
pub(crate) fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/go-client")
}

/// Builds `tools/go-client` into `out` with the extra `flags` unless `out` is newer than the
/// source, with the local toolchain only (nothing downloaded); panics when `go build` fails.
pub(crate) fn build(out: &Path, flags: &[&str]) {
    let newest_src = ["main.go", "go.mod"]
        .iter()
        .filter_map(|f| {
            std::fs::metadata(source_dir().join(f))
                .ok()?
                .modified()
                .ok()
        })
        .max();
    let built = std::fs::metadata(out).and_then(|m| m.modified()).ok();
    if built.is_some() && built >= newest_src {
        return;
    }
    let aside = out.with_extension(format!("tmp{}", std::process::id()));
    let mut c = Command::new("go");
    c.arg("build").arg("-o").arg(&aside).args(flags);
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
    std::fs::rename(&aside, out).expect("move the build into place");
}

/// The builds of the client.
pub(crate) struct Builds {
    pub plain: PathBuf,
    /// `-ldflags=-s -w`
    pub stripped: PathBuf,
    /// `-buildmode=pie -ldflags=-s -w`
    pub pie: PathBuf,
}

/// The builds of the client, made once.
pub(crate) fn go_client() -> Option<&'static Builds> {
    static BUILT: OnceLock<Option<Builds>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if Command::new("go").arg("version").output().is_err() {
                eprintln!("skipped: no `go` on PATH (scripts/install-deps.sh installs golang-go)");
                return None;
            }
            let dir = std::env::temp_dir().join("oisp-go-client");
            std::fs::create_dir_all(&dir).unwrap();
            let b = Builds {
                plain: dir.join("go-client"),
                stripped: dir.join("go-client-stripped"),
                pie: dir.join("go-client-pie"),
            };
            build(&b.plain, &[]);
            build(&b.stripped, &["-ldflags=-s -w"]);
            build(&b.pie, &["-buildmode=pie", "-ldflags=-s -w"]);
            Some(b)
        })
        .as_ref()
}
