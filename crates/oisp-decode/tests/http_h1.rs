//! HTTP/1.x decoding through `ConnTracker`.

mod http_support;

use http_support::*;
use oisp_capture::ConnRole;
use oisp_decode::conn::{codes, HttpOutput};
use oisp_decode::http::HttpVersion;
use std::io::Write;

#[test]
fn keep_alive_three_exchanges_emitted_promptly() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, Some("http/1.1"));
    for i in 0..3 {
        let path = format!("/v1/chat/{i}");
        assert!(s.send(1, E, &post(&path, "{\"q\":1}")).is_empty());
        let out = s.send(1, I, &ok(&format!("{{\"a\":{i}}}")));
        let xs = exchanges(&out);
        assert_eq!(
            xs.len(),
            1,
            "exchange {i} emitted when its response completes"
        );
        let x = &xs[0];
        assert_eq!(x.index, i);
        assert_eq!(x.request.path, path);
        assert_eq!(x.request.method, "POST");
        assert_eq!(x.request.authority.as_deref(), Some("api.example.com"));
        assert_eq!(x.request.body.bytes, b"{\"q\":1}");
        let r = x.response.as_ref().unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body.bytes, format!("{{\"a\":{i}}}").as_bytes());
        assert!(!r.body.incomplete);
        assert_eq!(r.body.arrivals.len(), 1);
        assert_eq!(r.body.arrivals[0].0, 0);
        assert!(x.warnings.is_empty());
        assert_eq!(x.version, HttpVersion::Http11);
        assert_eq!(x.stream_id, None);
    }
    assert!(s.close(1).is_empty());
    assert!(s.codes().is_empty());
}

#[test]
fn pipelined_requests_pair_fifo() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    let mut reqs = Vec::new();
    for p in ["/a", "/b", "/c"] {
        reqs.extend(format!("GET {p} HTTP/1.1\r\nHost: h\r\n\r\n").into_bytes());
    }
    s.send(1, E, &reqs);
    let mut resps = Vec::new();
    for b in ["A", "BB", "CCC"] {
        resps.extend(ok(b));
    }
    let out = s.send(1, I, &resps);
    let xs = exchanges(&out);
    assert_eq!(xs.len(), 3);
    for (x, (p, b)) in xs.iter().zip([("/a", "A"), ("/b", "BB"), ("/c", "CCC")]) {
        assert_eq!(x.request.path, p);
        assert_eq!(x.response.as_ref().unwrap().body.bytes, b.as_bytes());
    }
    assert_eq!(s.codes(), Vec::<&str>::new());
}

fn chunked_response() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n\
      5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Checksum: abc\r\n\r\n"
        .to_vec()
}

#[test]
fn chunked_split_at_every_position() {
    let resp = chunked_response();
    for cut in 0..=resp.len() {
        for cut2 in [cut, (cut + 7).min(resp.len())] {
            let mut s = Sim::default();
            s.open(1, ConnRole::Client, None);
            s.send(1, E, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            for part in [&resp[..cut], &resp[cut..cut2], &resp[cut2..]] {
                if !part.is_empty() {
                    s.send(1, I, part);
                }
            }
            let xs = s.exchanges();
            assert_eq!(xs.len(), 1, "cut {cut}/{cut2}");
            let r = xs[0].response.as_ref().unwrap();
            assert_eq!(r.body.bytes, b"hello 0123456789", "cut {cut}/{cut2}");
            assert!(!r.body.incomplete);
            assert_eq!(r.headers.get("x-checksum"), Some("abc"));
            assert!(r.body.arrivals.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(s.codes().is_empty(), "cut {cut}: {:?}", s.out);
        }
    }
}

#[test]
fn chunked_one_byte_chunks_with_request_chunked_too() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    let req =
        b"POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    for b in req.iter() {
        s.send(1, E, &[*b]);
    }
    for b in chunked_response() {
        s.send(1, I, &[b]);
    }
    let xs = s.exchanges();
    assert_eq!(xs.len(), 1);
    assert_eq!(xs[0].request.body.bytes, b"abc");
    let body = &xs[0].response.as_ref().unwrap().body;
    assert_eq!(body.bytes, b"hello 0123456789");
    // One arrival per chunk carrying data: every body byte arrived separately.
    assert_eq!(body.arrivals.len(), 16);
}

fn compressed(enc: &str, data: &[u8]) -> Vec<u8> {
    match enc {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "deflate-raw" => {
            let mut e =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                w.write_all(data).unwrap();
            }
            out
        }
        "zstd" => zstd::encode_all(data, 3).unwrap(),
        _ => unreachable!(),
    }
}

#[test]
fn content_encodings_decoded_incrementally() {
    let text: Vec<u8> = (0..5000)
        .flat_map(|i| format!("token {i} ").into_bytes())
        .collect();
    for enc in ["gzip", "deflate", "deflate-raw", "br", "zstd"] {
        let wire = if enc == "deflate-raw" { "deflate" } else { enc };
        let body = compressed(enc, &text);
        let mut s = Sim::default();
        s.open(1, ConnRole::Client, None);
        s.send(
            1,
            E,
            b"GET / HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, br, zstd\r\n\r\n",
        );
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: {wire}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.send(1, I, head.as_bytes());
        for piece in body.chunks(97) {
            s.send(1, I, piece);
        }
        let xs = s.exchanges();
        assert_eq!(xs.len(), 1, "{enc}");
        let b = &xs[0].response.as_ref().unwrap().body;
        assert_eq!(b.decode_error, None, "{enc}");
        assert_eq!(b.bytes, text, "{enc}");
        assert!(!b.incomplete);
        assert_eq!(b.arrivals.first().map(|a| a.0), Some(0), "{enc}");
        assert!(b.arrivals.windows(2).all(|w| w[0].0 < w[1].0), "{enc}");
        assert!(s.codes().is_empty(), "{enc}: {:?}", s.codes());
    }
}

#[test]
fn invalid_gzip_keeps_raw_bytes() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(
        1,
        I,
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!",
    );
    let xs = s.exchanges();
    let b = &xs[0].response.as_ref().unwrap().body;
    assert_eq!(b.bytes, b"not gzip!");
    assert!(b.decode_error.as_deref().unwrap().starts_with("gzip"));
    assert_eq!(s.codes(), vec![codes::CONTENT_DECODE_ERROR]);
    assert!(xs[0].warnings[0].starts_with("content_decode_error: "));
}

#[test]
fn expect_100_continue_skips_interim_response() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(
        1,
        E,
        b"POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    );
    assert!(s.send(1, I, b"HTTP/1.1 100 Continue\r\n\r\n").is_empty());
    s.send(1, E, b"data");
    s.send(1, I, &ok("done"));
    let xs = s.exchanges();
    assert_eq!(xs.len(), 1);
    assert_eq!(xs[0].request.body.bytes, b"data");
    let r = xs[0].response.as_ref().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body.bytes, b"done");
}

#[test]
fn head_204_304_have_no_body() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(1, I, b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
    s.send(1, E, b"DELETE /y HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(1, I, b"HTTP/1.1 204 No Content\r\n\r\n");
    s.send(
        1,
        E,
        b"GET /z HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"e\"\r\n\r\n",
    );
    s.send(
        1,
        I,
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
    );
    s.send(1, E, b"GET /w HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(1, I, &ok("w"));
    let xs = s.exchanges();
    let got: Vec<(u16, usize)> = xs
        .iter()
        .map(|x| {
            let r = x.response.as_ref().unwrap();
            (r.status, r.body.bytes.len())
        })
        .collect();
    assert_eq!(got, vec![(200, 0), (204, 0), (304, 0), (200, 1)]);
    assert!(s.codes().is_empty());
}

#[test]
fn close_delimited_http10_response() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"GET /old HTTP/1.0\r\n\r\n");
    s.send(
        1,
        I,
        b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npart1 ",
    );
    s.send(1, I, b"part2");
    assert!(s.exchanges().is_empty());
    s.close(1);
    let xs = s.exchanges();
    assert_eq!(xs.len(), 1);
    assert_eq!(xs[0].version, HttpVersion::Http10);
    let b = &xs[0].response.as_ref().unwrap().body;
    assert_eq!(b.bytes, b"part1 part2");
    assert!(!b.incomplete);
    assert!(s.codes().is_empty());
}

#[test]
fn close_delimited_at_capture_end_is_incomplete() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(1, I, b"HTTP/1.1 200 OK\r\n\r\nstreaming");
    s.finish();
    let xs = s.exchanges();
    assert!(xs[0].response.as_ref().unwrap().body.incomplete);
    assert_eq!(s.codes(), vec![codes::CAPTURE_ENDED]);
}

/// After a 101 the connection belongs to the WebSocket decoder: no more HTTP exchanges, the
/// frames are read (here a server "hi"), and bytes that are not valid frames are reported
/// (`ws_protocol_error`, per direction) and counted as ignored.
#[test]
fn websocket_upgrade_stops_http_decoding() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(
        1,
        E,
        b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\n\r\n\x81\x85frame",
    );
    let out = s.send(
        1,
        I,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi",
    );
    let xs = exchanges(&out);
    assert_eq!(xs.len(), 1);
    assert_eq!(xs[0].upgrade.as_deref(), Some("websocket"));
    assert_eq!(xs[0].response.as_ref().unwrap().status, 101);
    s.send(1, E, b"\x81\x85more websocket bytes");
    s.send(1, I, b"GET / HTTP/1.1\r\n\r\n");
    s.close(1);
    assert_eq!(s.exchanges().len(), 1);
    let hi = s.out.iter().any(|o| {
        matches!(o, HttpOutput::WebSocket(oisp_decode::ws::WsOutput::Message(m)) if m.payload == b"hi")
    });
    assert!(hi, "{:?}", s.out);
    assert_eq!(
        s.codes(),
        vec![codes::WS_PROTOCOL_ERROR, codes::WS_PROTOCOL_ERROR]
    );
    assert!(s.tracker.stats().ignored_bytes > 0);
}

#[test]
fn refused_upgrade_continues_http() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(
        1,
        E,
        b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    s.send(1, I, &ok("no"));
    s.send(1, I, &ok("yes"));
    let xs = s.exchanges();
    assert_eq!(xs.len(), 2);
    assert_eq!(xs[0].upgrade, None);
    assert_eq!(xs[1].request.path, "/next");
}

#[test]
fn server_role_and_unknown_role() {
    for (role, req_dir, resp_dir) in [
        (ConnRole::Server, I, E),
        (ConnRole::Unknown, I, E),
        (ConnRole::Unknown, E, I),
    ] {
        let mut s = Sim::default();
        s.open(1, role, None);
        s.send(1, req_dir, &post("/p", "x"));
        s.send(1, resp_dir, &ok("y"));
        let xs = s.exchanges();
        assert_eq!(xs.len(), 1, "{role:?}");
        assert_eq!(xs[0].request.body.bytes, b"x");
        let expect = if req_dir == E {
            ConnRole::Client
        } else {
            ConnRole::Server
        };
        if role == ConnRole::Unknown {
            assert_eq!(xs[0].conn.role, Some(expect));
        }
    }
}

#[test]
fn response_before_request_waits_for_it() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    // Cross-direction reordering by the capture: the response is pushed first.
    s.send(1, E, b"GET /first HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(1, I, &ok("1"));
    s.send(1, I, &ok("2"));
    s.send(1, E, b"GET /second HTTP/1.1\r\nHost: h\r\n\r\n");
    let xs = s.exchanges();
    assert_eq!(xs.len(), 2);
    assert_eq!(xs[1].response.as_ref().unwrap().body.bytes, b"2");
}

#[test]
fn timestamps_and_pid_follow_chunks() {
    let mut s = Sim::default();
    s.open(1, ConnRole::Client, None);
    s.send(
        1,
        E,
        b"POST /t HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n",
    ); // t=2
    s.send(1, E, b"ab"); // t=3
    s.send(1, I, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nx"); // t=4
    s.send(1, I, b"yz"); // t=5
    let x = &s.exchanges()[0];
    assert_eq!(x.request.ts_start, ts(2));
    assert_eq!(x.request.ts_end, ts(3));
    let r = x.response.as_ref().unwrap();
    assert_eq!(r.ts_start, ts(4));
    assert_eq!(r.ts_end, ts(5));
    assert_eq!(r.body.arrivals, vec![(0, ts(4)), (1, ts(5))]);
    assert_eq!(x.conn.pid, 100);
    assert_eq!(x.conn.sni.as_deref(), Some("api.example.com"));
}

#[test]
fn body_limit_truncates_and_warns() {
    let cfg = oisp_decode::conn::TrackerConfig {
        limits: oisp_decode::conn::Limits {
            max_body: 10,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut s = Sim::new(cfg);
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(1, I, &ok("0123456789abcdef"));
    s.send(1, E, b"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
    s.send(1, I, &ok("ok"));
    let xs = s.exchanges();
    assert_eq!(xs.len(), 2);
    let b = &xs[0].response.as_ref().unwrap().body;
    assert_eq!(b.bytes, b"0123456789");
    assert!(b.incomplete);
    assert_eq!(s.codes(), vec![codes::BODY_TRUNCATED]);
}

#[test]
fn gzip_bomb_is_capped() {
    let zeros = vec![0u8; 4 << 20];
    let body = compressed("gzip", &zeros);
    let cfg = oisp_decode::conn::TrackerConfig {
        limits: oisp_decode::conn::Limits {
            max_body: 1 << 20,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut s = Sim::new(cfg);
    s.open(1, ConnRole::Client, None);
    s.send(1, E, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.send(1, I, head.as_bytes());
    s.send(1, I, &body);
    let b = &s.exchanges()[0].response.as_ref().unwrap().body.clone();
    assert_eq!(b.bytes.len(), 1 << 20);
    assert!(b.incomplete);
    assert_eq!(b.decode_error, None);
}
