//! `ProxySource` driven directly: what it records for a plain HTTP exchange, and how it answers
//! bad clients (garbage, a CONNECT not followed by TLS, an unreachable upstream, a bad target)
//! — with a clear log line and an HTTP error, never a panic, and still serving afterwards.

use oisp_capture::{DataSource, Direction, Progress, RawRecord, Source};
use oisp_proxy::{InterceptMode, Policy, ProxyOptions, ProxySource};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Harness {
    proxy: ProxySource,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

fn start(mode: InterceptMode) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let proxy = ProxySource::start(ProxyOptions {
        listen: "127.0.0.1:0".into(),
        ca_dir: dir.path().join("ca"),
        upstream_ca: Vec::new(),
        policy: Policy {
            mode,
            domains: Vec::new(),
        },
        log: Arc::new(move |m: &str| sink.lock().unwrap().push(m.to_string())),
    })
    .unwrap();
    Harness {
        proxy,
        log,
        _dir: dir,
    }
}

impl Harness {
    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.proxy.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// Sends `bytes`, returns everything the proxy answered until it closed.
    fn exchange(&self, bytes: &[u8]) -> String {
        let mut s = self.connect();
        s.write_all(bytes).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    fn log_contains(&self, text: &str) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if self.log.lock().unwrap().iter().any(|l| l.contains(text)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Records until `n` have come or 5 s passed.
    fn records(&mut self, n: usize) -> Vec<RawRecord> {
        let mut out = Vec::new();
        let start = Instant::now();
        while out.len() < n && start.elapsed() < Duration::from_secs(5) {
            assert_eq!(
                self.proxy
                    .poll(Duration::from_millis(100), &mut out)
                    .unwrap(),
                Progress::More
            );
        }
        out
    }
}

/// A one-shot HTTP server answering `body` to the first request.
fn http_server(body: &'static str) -> (u16, std::thread::JoinHandle<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 4096];
        let mut req = Vec::new();
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            req.extend_from_slice(&buf[..n]);
        }
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(resp.as_bytes()).unwrap();
        String::from_utf8_lossy(&req).into_owned()
    });
    (port, h)
}

#[test]
fn a_plain_http_exchange_is_forwarded_in_origin_form_and_recorded() {
    let mut h = start(InterceptMode::Ai);
    let (port, server) = http_server("{\"ok\":true}");
    let answer = h.exchange(
        format!(
            "GET http://127.0.0.1:{port}/v1/models HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nProxy-Connection: keep-alive\r\n\r\n"
        )
        .as_bytes(),
    );
    assert!(answer.ends_with("{\"ok\":true}"), "{answer}");
    let seen = server.join().unwrap();
    assert!(seen.starts_with("GET /v1/models HTTP/1.1\r\n"), "{seen}");
    assert!(!seen.contains("Proxy-Connection") && seen.contains("Connection: close"));

    let recs = h.records(4);
    let open = recs
        .iter()
        .find_map(|r| match r {
            RawRecord::ConnOpen(o) => Some(o.clone()),
            _ => None,
        })
        .expect("ConnOpen");
    assert_eq!(open.source, DataSource::Proxy);
    assert_eq!(open.remote.map(|a| a.port()), Some(port));
    // This test process owns the client socket, and the lookup skips the proxy's own process.
    assert_eq!(open.pid, 0);
    let mut egress = Vec::new();
    let mut ingress = Vec::new();
    for r in &recs {
        if let RawRecord::Data(d) = r {
            assert_eq!(d.conn_id, open.conn_id);
            let buf = match d.direction {
                Direction::Egress => &mut egress,
                Direction::Ingress => &mut ingress,
            };
            assert_eq!(d.seq as usize, buf.len(), "contiguous seq");
            buf.extend_from_slice(&d.bytes);
        }
    }
    assert_eq!(String::from_utf8_lossy(&egress), seen);
    assert!(String::from_utf8_lossy(&ingress).ends_with("{\"ok\":true}"));
    assert!(recs
        .iter()
        .any(|r| matches!(r, RawRecord::ConnClose(c) if c.conn_id == open.conn_id)));
    assert!(h.proxy.stats().records >= 4);
    assert!(h.proxy.meta().contains("\"system_records\":\"procfs\""));
}

#[test]
fn bad_clients_get_clear_errors_and_the_proxy_keeps_serving() {
    let mut h = start(InterceptMode::All);
    // Garbage instead of a request.
    let a = h.exchange(b"\x16\x03\x01\x00\x05hello garbage\r\n\r\n");
    assert!(a.starts_with("HTTP/1.1 400"), "{a}");
    assert!(h.log_contains("malformed request head"));
    // Origin-form request: not a proxy request.
    let a = h.exchange(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(
        a.starts_with("HTTP/1.1 400") && a.contains("not a proxy request"),
        "{a}"
    );
    // A CONNECT target that is no host:port.
    let a = h.exchange(b"CONNECT host:notaport HTTP/1.1\r\n\r\n");
    assert!(a.starts_with("HTTP/1.1 400"), "{a}");
    assert!(h.log_contains("bad CONNECT target"));
    // An upstream that refuses the connection (intercepted: the client is told inside TLS, or
    // the connection closes; here the client sends no ClientHello but garbage).
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap().port();
    drop(closed);
    let a =
        h.exchange(format!("CONNECT 127.0.0.1:{dead} HTTP/1.1\r\n\r\nnot tls at all").as_bytes());
    assert!(a.starts_with("HTTP/1.1 200"), "{a}");
    assert!(h.log_contains("not followed by a TLS ClientHello"));
    // A plain request to a dead upstream: 502 with the reason.
    let a = h.exchange(format!("GET http://127.0.0.1:{dead}/ HTTP/1.1\r\n\r\n").as_bytes());
    assert!(
        a.starts_with("HTTP/1.1 502") && a.contains("cannot connect"),
        "{a}"
    );
    // A client that disconnects at once.
    drop(h.connect());
    // Still serving.
    let (port, server) = http_server("still here");
    let a = h.exchange(format!("GET http://127.0.0.1:{port}/ HTTP/1.1\r\n\r\n").as_bytes());
    assert!(a.ends_with("still here"), "{a}");
    server.join().unwrap();
    // Nothing above produced data records but the last exchange.
    let recs = h.records(4);
    let opens = recs
        .iter()
        .filter(|r| matches!(r, RawRecord::ConnOpen(_)))
        .count();
    assert_eq!(opens, 1);
    let mut rest = Vec::new();
    h.proxy.finish(&mut rest);
    assert_eq!(
        h.proxy.poll(Duration::from_millis(10), &mut rest).unwrap(),
        Progress::End
    );
}

#[test]
fn a_busy_listen_address_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = ProxySource::start(ProxyOptions {
        listen: taken.local_addr().unwrap().to_string(),
        ca_dir: dir.path().join("ca"),
        upstream_ca: Vec::new(),
        policy: Policy::default(),
        log: Arc::new(|_: &str| {}),
    })
    .err()
    .expect("address in use");
    assert!(
        err.to_string().starts_with("cannot listen on 127.0.0.1:"),
        "{err}"
    );
    let err = ProxySource::start(ProxyOptions {
        listen: "127.0.0.1:0".into(),
        ca_dir: dir.path().join("ca"),
        upstream_ca: vec![dir.path().join("missing.pem")],
        policy: Policy::default(),
        log: Arc::new(|_: &str| {}),
    })
    .err()
    .expect("missing upstream CA");
    assert!(err.to_string().contains("missing.pem"), "{err}");
}
