//! Test support: a real tansu broker (tools/kafka/setup-broker.sh), real fixture events, and an
//! independent consumer (kcat, librdkafka). Missing tools fail the test with the reason.

#![allow(dead_code)]

use oisp_sinks::Item;
use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use oisp_testkit::repo_root as root;

/// The events of `fixtures/captures/NAME.oraw`, decoded as the sensor does, as sink items.
pub fn fixture_items(name: &str) -> Vec<Item> {
    let events = oisp_testkit::capture_events(name);
    assert!(!events.is_empty(), "{name}: no events");
    oisp_testkit::items(&events)
}

/// Runs a program; panics with its stderr when it cannot start or fails.
fn run(cmd: &mut Command, what: &str) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run ({e}); see scripts/install-deps.sh"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The tansu binary, built into tools/kafka/.bin by the setup script if missing.
pub fn tansu_bin() -> PathBuf {
    let script = root().join("tools/kafka/setup-broker.sh");
    let out = run(
        Command::new("bash").arg(&script).arg("install"),
        "tools/kafka/setup-broker.sh install",
    );
    let path = PathBuf::from(String::from_utf8(out).unwrap().trim());
    assert!(path.is_file(), "tansu not at {}", path.display());
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A tansu broker on 127.0.0.1:port with in-memory storage, killed on drop.
pub struct Broker {
    bin: PathBuf,
    pub port: u16,
    child: Option<Child>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Broker {
    pub fn start() -> Broker {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Broker {
            bin: tansu_bin(),
            port: free_port(),
            child: None,
            log: dir.path().join("broker.log"),
            _dir: dir,
        };
        b.restart();
        b
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the broker (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// (Re)starts the broker on the same port, empty, and waits until it accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let log = std::fs::File::create(&self.log).unwrap();
        let child = Command::new(&self.bin)
            .args(["broker", "--cluster-id", "oisp-test"])
            .arg("--listener-url")
            .arg(format!("tcp://127.0.0.1:{}", self.port))
            .arg("--advertised-listener-url")
            .arg(format!("tcp://127.0.0.1:{}", self.port))
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.bin.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("tansu exited ({status}): {}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "tansu not listening after 15 s: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One consumed message.
#[derive(Debug, Clone)]
pub struct Consumed {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: BTreeMap<String, String>,
}

/// The consumer's Python (tools/kafka/.venv with confluent-kafka, created if missing).
fn consumer_python() -> PathBuf {
    let script = root().join("tools/kafka/setup-broker.sh");
    let out = run(
        Command::new("bash").arg(&script).arg("venv"),
        "tools/kafka/setup-broker.sh venv (python3 -m venv, pip install confluent-kafka)",
    );
    PathBuf::from(String::from_utf8(out).unwrap().trim())
}

/// Reads the messages of `topic` with an independent client (tools/kafka/consume.py:
/// confluent-kafka, i.e. librdkafka): waits for `expected` (fails after 20 s without them),
/// returns every message seen (extras included), in partition then offset order.
pub fn consume(broker: &str, topic: &str, expected: usize) -> Vec<Consumed> {
    let out = run(
        Command::new(consumer_python())
            .arg(root().join("tools/kafka/consume.py"))
            .args([broker, topic, &expected.to_string()]),
        "tools/kafka/consume.py",
    );
    parse_framed(&out)
}

/// Produces one message per key with librdkafka's murmur2 partitioner
/// (tools/kafka/produce_keys.py).
pub fn produce_keys_with_librdkafka(broker: &str, topic: &str, keys: &[String]) {
    use std::io::Write;
    let mut child = Command::new(consumer_python())
        .arg(root().join("tools/kafka/produce_keys.py"))
        .args([broker, topic])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tools/kafka/produce_keys.py");
    let input = keys.join("\n");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "produce_keys.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Parses consume.py's framing: `P O KEYLEN VALUELEN\n KEY VALUE \n HEADERS-JSON\n`.
fn parse_framed(mut buf: &[u8]) -> Vec<Consumed> {
    let mut out = Vec::new();
    let line = |b: &mut &[u8]| -> String {
        let nl = b
            .iter()
            .position(|&c| c == b'\n')
            .expect("consumer output: line");
        let l = String::from_utf8(b[..nl].to_vec()).unwrap();
        *b = &b[nl + 1..];
        l
    };
    while !buf.is_empty() {
        let head = line(&mut buf);
        let f: Vec<&str> = head.split(' ').collect();
        assert_eq!(f.len(), 4, "consumer header line `{head}`");
        let klen: i64 = f[2].parse().unwrap();
        let vlen: usize = f[3].parse().unwrap();
        let key = (klen >= 0).then(|| buf[..klen as usize].to_vec());
        buf = &buf[klen.max(0) as usize..];
        let value = buf[..vlen].to_vec();
        buf = &buf[vlen..];
        assert_eq!(buf.first(), Some(&b'\n'), "consumer output after value");
        buf = &buf[1..];
        let headers: BTreeMap<String, String> = serde_json::from_str(&line(&mut buf)).unwrap();
        out.push(Consumed {
            partition: f[0].parse().unwrap(),
            offset: f[1].parse().unwrap(),
            key,
            value,
            headers,
        });
    }
    out
}

/// This machine's host name, as `hostname` prints it.
pub fn hostname() -> String {
    let out = run(&mut Command::new("hostname"), "hostname");
    String::from_utf8(out).unwrap().trim().to_owned()
}

/// Decodes one `oisp.v1.Event` with protoc (Debian protobuf-compiler + libprotobuf-dev for the
/// well-known types), compiling the vendored protos itself: independent of protox/prost.
pub fn protoc_decode(bytes: &[u8]) -> String {
    use std::io::Write;
    let proto = root().join("vendor/oisp-spec/proto");
    let mut child = Command::new("protoc")
        .arg("--decode=oisp.v1.Event")
        .arg(format!("-I{}", proto.display()))
        .arg("-I/usr/include")
        .arg("oisp/v1/events.proto")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("protoc: cannot run ({e}); apt-get install protobuf-compiler libprotobuf-dev")
        });
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "protoc --decode failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
