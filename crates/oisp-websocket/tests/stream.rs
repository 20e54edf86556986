//! The WebSocket sink against an independent client: PyPI `websockets` driven by
//! tools/webhook-receiver/ws_client.py (venv created by setup-venv.sh when missing).

use oisp_sinks::{Item, Sink};
use oisp_websocket::WebSocketConfig;
use oisp_websocket::{Limits, WebSocketSink};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Once;
use std::time::{Duration, Instant};

fn tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/webhook-receiver")
}

/// The venv's python; creates the venv once per test run. Fails (never skips) when it cannot.
fn python() -> PathBuf {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        let st = Command::new("bash")
            .arg(tools().join("setup-venv.sh"))
            .status()
            .expect("bash is required to set up the test client");
        assert!(
            st.success(),
            "tools/webhook-receiver/setup-venv.sh failed (needs python3-venv and PyPI): {st}"
        );
    });
    tools().join(".venv/bin/python3")
}

/// Events from the spec's examples, each with a fresh id.
fn items(n: usize) -> Vec<Item> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vendor/oisp-spec/examples");
    let base: Vec<oisp_event::Event> = [
        "process-exec.json",
        "ai-request-openai.json",
        "ai-response-openai.json",
        "network-connect.json",
    ]
    .iter()
    .map(|f| serde_json::from_slice(&std::fs::read(dir.join(f)).unwrap()).unwrap())
    .collect();
    oisp_testkit::fresh_items(&base, n)
}

fn sink(limits: Limits) -> WebSocketSink {
    WebSocketSink::with_limits(
        &WebSocketConfig {
            listen: "127.0.0.1:0".into(),
            filter: None,
        },
        limits,
    )
    .unwrap()
}

/// A running ws_client.py; its stdout lines arrive on `lines`.
struct Client {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Client {
    fn start(url: &str, args: &[&str]) -> Client {
        let mut child = Command::new(python())
            .arg(tools().join("ws_client.py"))
            .arg(url)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ws_client.py");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Client { child, lines }
    }

    fn line(&self, within: Duration) -> String {
        self.lines
            .recv_timeout(within)
            .unwrap_or_else(|_| panic!("ws_client.py said nothing within {within:?}"))
    }

    fn finish(mut self) -> bool {
        let end = Instant::now() + Duration::from_secs(30);
        while Instant::now() < end {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("ws_client.py did not exit");
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Delivers `items` in batches of `per_10ms` every 10 ms (a busy sensor: 2,000-5,000/s).
fn deliver_paced(s: &mut WebSocketSink, items: &[Item], per_10ms: usize) {
    for chunk in items.chunks(per_10ms) {
        s.deliver(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn clients_receive_every_event_as_a_json_text_frame() {
    let mut s = sink(Limits::default());
    let url = s.target();
    assert!(
        url.starts_with("ws://127.0.0.1:") && url.ends_with("/events"),
        "{url}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let outs: Vec<PathBuf> = (0..3)
        .map(|n| dir.join(format!("client{n}.jsonl")))
        .collect();
    let n = 2000;
    let clients: Vec<Client> = outs
        .iter()
        .map(|o| {
            Client::start(
                &url,
                &["--count", &n.to_string(), "--out", o.to_str().unwrap()],
            )
        })
        .collect();
    for c in &clients {
        assert_eq!(c.line(Duration::from_secs(30)), "connected");
    }
    wait_for("3 clients", || s.stats().clients == 3);
    let batch = items(n);
    deliver_paced(&mut s, &batch, 20);
    for c in clients {
        assert_eq!(c.line(Duration::from_secs(30)), format!("received {n}"));
        assert!(c.finish());
    }
    for out in &outs {
        let text = std::fs::read_to_string(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), n);
        for (line, item) in lines.iter().zip(&batch) {
            assert_eq!(
                line.as_bytes(),
                &item.json[..],
                "frames are the event JSON, in order"
            );
        }
    }
    wait_for("clients gone", || s.stats().clients == 0);
    let st = s.stats();
    assert_eq!(
        (st.events, st.frames_sent, st.slow_disconnects),
        (n as u64, 3 * n as u64, 0)
    );
    // Events with no one connected cost nothing and are not counted as sent.
    s.deliver(&items(10)).unwrap();
    assert_eq!(s.stats().frames_sent, 3 * n as u64);
}

#[test]
fn a_stalled_client_is_disconnected_and_others_keep_up() {
    // A reading client has 2 s of slack (4,096 events at 2,000/s) even on a loaded machine;
    // the stalled one stops reading for 8 s.
    let mut s = sink(Limits {
        buffer: 4096,
        max_clients: 8,
        write_timeout: Duration::from_secs(2),
    });
    let url = s.target();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = dir.join("fast.jsonl");
    let total = 12_000;
    let fast = Client::start(
        &url,
        &[
            "--count",
            &total.to_string(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let slow = Client::start(&url, &["--stall", "8"]);
    assert_eq!(fast.line(Duration::from_secs(30)), "connected");
    assert_eq!(slow.line(Duration::from_secs(30)), "connected");
    wait_for("2 clients", || s.stats().clients == 2);
    let batch = items(total);
    let t = Instant::now();
    deliver_paced(&mut s, &batch, 20);
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "deliver must never wait for clients: {:?}",
        t.elapsed()
    );
    assert_eq!(
        fast.line(Duration::from_secs(30)),
        format!("received {total}")
    );
    wait_for("the stalled client dropped", || {
        s.stats().slow_disconnects == 1
    });
    let last = slow.line(Duration::from_secs(30));
    assert!(last.starts_with("closed "), "{last}");
    println!("stalled client: {last}; {:?}", s.stats());
    let got: usize = last.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(got < total, "{last}");
    assert!(slow.finish());
    assert!(fast.finish());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().count(),
        total
    );
    let st = s.stats();
    assert_eq!(st.slow_disconnects, 1, "{st:?}");
    assert_eq!(st.clients, 0, "{st:?}");
}

#[test]
fn many_clients_and_a_client_limit() {
    let mut s = sink(Limits {
        buffer: 1024,
        max_clients: 40,
        write_timeout: Duration::from_secs(5),
    });
    let url = s.target();
    let c = Client::start(&url, &["--clients", "40", "--count", "500"]);
    assert_eq!(c.line(Duration::from_secs(60)), "connected");
    wait_for("40 clients", || s.stats().clients == 40);
    let over = Client::start(&url, &["--expect-status", "503"]);
    assert_eq!(over.line(Duration::from_secs(30)), "refused 503");
    assert!(over.finish());
    deliver_paced(&mut s, &items(500), 10);
    assert_eq!(c.line(Duration::from_secs(60)), "received 20000");
    assert!(c.finish());
    wait_for("clients gone", || s.stats().clients == 0);
    let st = s.stats();
    assert_eq!(
        (st.frames_sent, st.refused, st.slow_disconnects),
        (20_000, 1, 0),
        "{st:?}"
    );
}

#[test]
fn only_events_is_served() {
    let s = sink(Limits::default());
    let base = format!("ws://{}", s.local_addr());
    let c = Client::start(&format!("{base}/other"), &["--expect-status", "404"]);
    assert_eq!(c.line(Duration::from_secs(30)), "refused 404");
    assert!(c.finish());
    let c = Client::start(
        &format!("{base}/events?colour=red"),
        &["--expect-status", "400"],
    );
    assert_eq!(c.line(Duration::from_secs(30)), "refused 400");
    assert!(c.finish());
    // A plain HTTP request is told this is a WebSocket endpoint.
    let mut tcp = std::net::TcpStream::connect(s.local_addr()).unwrap();
    tcp.write_all(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    tcp.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 426 "), "{resp}");
    assert_eq!(s.stats().refused, 3);
}

#[test]
fn query_filters_select_events_per_client() {
    let mut s = sink(Limits::default());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = dir.join("ai.jsonl");
    let url = format!("{}?types=ai.request", s.target());
    let batch = items(400); // every 4th is an ai.request
    let c = Client::start(&url, &["--count", "100", "--out", out.to_str().unwrap()]);
    assert_eq!(c.line(Duration::from_secs(30)), "connected");
    wait_for("client", || s.stats().clients == 1);
    deliver_paced(&mut s, &batch, 50);
    assert_eq!(c.line(Duration::from_secs(30)), "received 100");
    assert!(c.finish());
    let want: Vec<&[u8]> = batch
        .iter()
        .filter(|i| i.event.event_type() == "ai.request")
        .map(|i| &i.json[..])
        .collect();
    let text = std::fs::read_to_string(&out).unwrap();
    let got: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
    assert_eq!(got, want);
}

#[test]
fn a_used_port_is_a_clear_error() {
    let s = sink(Limits::default());
    let err = WebSocketSink::new(&WebSocketConfig {
        listen: s.local_addr().to_string(),
        filter: None,
    })
    .err()
    .unwrap();
    assert!(err.contains(&s.local_addr().to_string()), "{err}");
    let err = WebSocketSink::new(&WebSocketConfig {
        listen: "not-an-address".into(),
        filter: None,
    })
    .err()
    .unwrap();
    assert!(err.contains("not-an-address"), "{err}");
}

#[test]
fn dropping_the_sink_closes_clients() {
    let s = sink(Limits::default());
    let c = Client::start(&s.target(), &["--stall", "0.5"]);
    assert_eq!(c.line(Duration::from_secs(30)), "connected");
    wait_for("client", || s.stats().clients == 1);
    let t = Instant::now();
    drop(s);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let last = c.line(Duration::from_secs(30));
    assert!(last.starts_with("closed 1001 sensor stopping"), "{last}");
    assert!(c.finish());
}
