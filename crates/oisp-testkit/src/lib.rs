//! Test support shared by the sink crates (a dev-dependency only): events decoded from the
//! recorded captures as the sensor decodes them, sink items with fresh ids, and a private CA with
//! a server certificate for HTTPS/TLS tests. Everything panics with the reason on failure: these
//! run inside tests.

use oisp_event::Event;
use oisp_sinks::Item;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The events of one capture file (`.oraw`), decoded as `replay` does; the capture must decode
/// without error.
pub fn decode_capture_file(path: &Path) -> Vec<Event> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (events, _, err) = oisp_decode::decode_capture(&bytes);
    assert!(err.is_none(), "{}: {err:?}", path.display());
    events
}

/// The events of `fixtures/captures/NAME.oraw`.
pub fn capture_events(name: &str) -> Vec<Event> {
    decode_capture_file(&repo_root().join(format!("fixtures/captures/{name}.oraw")))
}

/// `events` as sink items.
pub fn items(events: &[Event]) -> Vec<Item> {
    events
        .iter()
        .map(|e| Item::new(e.clone()).expect("event serialises"))
        .collect()
}

/// `n` items: `base` repeated, each copy with a fresh ULID event id.
pub fn fresh_items(base: &[Event], n: usize) -> Vec<Item> {
    assert!(!base.is_empty(), "no events to repeat");
    (0..n)
        .map(|i| {
            let mut ev = base[i % base.len()].clone();
            ev.event_id = ulid::Ulid::new().to_string();
            Item::new(ev).expect("event serialises")
        })
        .collect()
}

/// Files made by [`make_server_certs`].
pub struct ServerCerts {
    /// The CA certificate (PEM) that signed `cert`.
    pub ca: PathBuf,
    /// Server certificate for `localhost` and `127.0.0.1` (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
}

/// A private CA and a server certificate signed by it for `localhost` and `127.0.0.1` (P-256
/// keys, valid two days), written into `dir` with the `openssl` command.
pub fn make_server_certs(dir: &Path) -> ServerCerts {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=oisp test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    ServerCerts {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("TLS tests need the openssl command ({e})"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
