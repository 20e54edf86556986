#![allow(dead_code)] // each test file uses a part
//! One plain HTTP/1.1 GET to a local server, for the web UI's tests (no client library needed).

use std::io::{Read, Write};
use std::time::Duration;

/// GET `path` from 127.0.0.1:`port`, optionally with a bearer token: the status code and the
/// whole response (headers and body).
pub fn get(port: u16, path: &str, bearer: Option<&str>) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let code = resp.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, resp)
}

/// The JSON body of a 200 response to `path`.
pub fn get_json(port: u16, path: &str) -> serde_json::Value {
    let (code, resp) = get(port, path, None);
    assert_eq!(code, 200, "{path}: {resp}");
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// The port of a URL such as `http://127.0.0.1:7777/?token=…`.
pub fn port_of(url: &str) -> u16 {
    let host = url.trim_start_matches("http://").split('/').next().unwrap();
    host.rsplit(':').next().unwrap().parse().expect("port")
}
