//! Decode throughput on one core, over the real SDK captures in `fixtures/captures/`.
//!
//! Groups (criterion ids are `group/function/parameter`):
//!
//! - `fixture/decoder/<file>`: the full decoder ([`CaptureDecoder`], the sensor's one decode path:
//!   push of every record, then `finish_capture`) over a
//!   whole capture; throughput in bytes of captured payload (`Data` record bytes).
//! - `nonstream/{decoder,http}/<exchange>` and `stream/{decoder,http}/<exchange>`: one real
//!   request/response pair taken from a fixture, replicated [`EXCHANGES`] times on one synthetic
//!   keep-alive connection (same bytes and chunk boundaries, `seq` offsets and timestamps
//!   re-based); throughput in exchanges. `decoder` is the full [`CaptureDecoder`], `http` the HTTP layer
//!   alone ([`ConnTracker`]: reassembly, HTTP/1.1 framing, content decoding, SSE), so the
//!   difference is the provider decoding and event building.
//! - `large_prompt/{decoder,http}/large-prompt`: the 2 MiB prompt capture, in bytes.
//!
//! Each benchmark checks once, before measuring, that the input decodes to what it should (the
//! expected number of exchanges and AI calls), so a decoder change that silently drops exchanges
//! cannot make the figures look better. `bench/decode-throughput.sh` runs these and prints a
//! table.

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use oisp_capture::{read_all, ConnClose, DataChunk, Direction, RawRecord, Timestamp};
use oisp_decode::conn::{ConnTracker, HttpOutput};
use oisp_decode::{CaptureDecoder, DecodeStats};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Exchanges per synthetic keep-alive connection (one benchmark iteration).
const EXCHANGES: usize = 1000;

/// The capture holding the 2 MiB prompt, benchmarked in its own group.
const LARGE_PROMPT: &str = "large-prompt";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/captures")
}

/// Every `*.oraw` fixture, by file stem, in name order.
fn fixture_names() -> Vec<String> {
    let dir = fixtures_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "oraw").then(|| p.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no .oraw fixtures in {}", dir.display());
    names
}

fn load(name: &str) -> Vec<RawRecord> {
    let path = fixtures_dir().join(format!("{name}.oraw"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let (records, err) = read_all(&bytes);
    if let Some(e) = err {
        panic!("{}: {e}", path.display());
    }
    records
}

/// Bytes of captured plaintext (both directions) in `records`.
fn payload_bytes(records: &[RawRecord]) -> u64 {
    records
        .iter()
        .map(|r| match r {
            RawRecord::Data(d) => d.bytes.len() as u64,
            _ => 0,
        })
        .sum()
}

/// The full decoder over `records`: every record, then end of capture.
///
/// Events are handed on (dropped) after each record, as the sensor's pipeline does when it
/// writes them to a sink: holding every event of a long capture in memory is not what a live
/// sensor does, and freeing thousands at once would measure the allocator, not the decoder.
fn run_decoder(records: &[RawRecord]) -> (usize, DecodeStats) {
    let mut dec = CaptureDecoder::default();
    let mut out = Vec::new();
    let mut events = 0;
    for r in records {
        dec.push(r, &mut out);
        events += out.len();
        black_box(&out);
        out.clear();
    }
    dec.finish_capture(&mut out);
    events += out.len();
    (events, dec.stats())
}

/// The HTTP layer alone over `records`; returns the number of exchanges it completed.
fn run_tracker(records: &[RawRecord]) -> usize {
    let mut tracker = ConnTracker::default();
    let mut out = Vec::new();
    let mut exchanges = 0;
    let mut count = |out: &mut Vec<HttpOutput>| {
        exchanges += out
            .drain(..)
            .filter(|o| matches!(o, HttpOutput::Exchange(_)))
            .count();
    };
    for r in records {
        tracker.push_into(r, &mut out);
        count(&mut out);
    }
    out.extend(tracker.finish());
    count(&mut out);
    exchanges
}

/// Which connection of a fixture to take as the template exchange.
struct Pick {
    /// Name in benchmark ids.
    id: &'static str,
    fixture: &'static str,
    /// The request line starts with this (method and path).
    request: &'static str,
    streaming: bool,
    /// The request (head or body) also contains this.
    request_contains: &'static str,
    /// The response head contains this (lower-case), e.g. a content coding.
    response_head_contains: &'static str,
}

/// One captured HTTP/1.1 exchange: the records of a connection that carried exactly one request.
struct Template {
    /// The client's `ProcessExec`, when the capture has it (events then name the process).
    exec: Option<RawRecord>,
    open: RawRecord,
    /// The connection's data chunks in capture order (both directions).
    chunks: Vec<DataChunk>,
    egress_len: u64,
    ingress_len: u64,
    /// First to last record of the connection.
    span_ns: u64,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// The first connection of `pick.fixture` matching `pick`.
fn template(pick: &Pick) -> Template {
    let records = load(pick.fixture);
    let mut execs = BTreeMap::new();
    let mut opens = BTreeMap::new();
    let mut chunks: BTreeMap<u64, Vec<DataChunk>> = BTreeMap::new();
    let mut last_ts: BTreeMap<u64, Timestamp> = BTreeMap::new();
    for r in &records {
        match r {
            RawRecord::ProcessExec(e) => {
                execs.entry(e.pid).or_insert_with(|| r.clone());
            }
            RawRecord::ConnOpen(o) => {
                opens.entry(o.conn_id).or_insert_with(|| r.clone());
            }
            RawRecord::Data(d) => {
                chunks.entry(d.conn_id).or_default().push(d.clone());
                last_ts.insert(d.conn_id, d.ts);
            }
            RawRecord::ConnClose(c) => {
                last_ts.insert(c.conn_id, c.ts);
            }
            _ => {}
        }
    }
    for (conn_id, open) in opens {
        let RawRecord::ConnOpen(o) = &open else {
            unreachable!()
        };
        let Some(conn_chunks) = chunks.remove(&conn_id) else {
            continue;
        };
        let stream = |dir: Direction| -> Vec<u8> {
            conn_chunks
                .iter()
                .filter(|c| c.direction == dir)
                .flat_map(|c| c.bytes.iter().copied())
                .collect()
        };
        let (egress, ingress) = (stream(Direction::Egress), stream(Direction::Ingress));
        let head_end = find(&ingress, b"\r\n\r\n").unwrap_or(ingress.len());
        let response_head = ingress[..head_end].to_ascii_lowercase();
        let matches = egress.starts_with(pick.request.as_bytes())
            && count(&egress, b" HTTP/1.1\r\n") == 1
            && find(&egress, pick.request_contains.as_bytes()).is_some()
            && response_head.starts_with(b"http/1.1 200 ")
            && find(&response_head, b"content-type: text/event-stream").is_some() == pick.streaming
            && find(&response_head, pick.response_head_contains.as_bytes()).is_some()
            // Contiguous, untruncated, starting at offset 0 in each direction.
            && [Direction::Egress, Direction::Ingress].iter().all(|&dir| {
                let mut next = 0;
                conn_chunks.iter().filter(|c| c.direction == dir).all(|c| {
                    let ok = c.seq == next && c.truncated_len == 0;
                    next += c.bytes.len() as u64;
                    ok
                })
            });
        if !matches {
            continue;
        }
        let first = o.ts.mono_ns;
        let last = last_ts.get(&conn_id).map_or(first, |t| t.mono_ns);
        return Template {
            exec: execs.get(&o.pid).cloned(),
            open: open.clone(),
            egress_len: egress.len() as u64,
            ingress_len: ingress.len() as u64,
            chunks: conn_chunks,
            span_ns: last.saturating_sub(first),
        };
    }
    panic!(
        "{}: no connection matches {} {} (streaming: {})",
        pick.fixture, pick.id, pick.request, pick.streaming
    );
}

fn shift(ts: Timestamp, by: u64) -> Timestamp {
    Timestamp {
        wall_ns: ts.wall_ns + by,
        mono_ns: ts.mono_ns + by,
    }
}

/// `n` copies of the template's exchange on one keep-alive connection: the same chunks, with
/// `seq` continuing from one copy to the next and timestamps advancing (1 ms between copies).
fn keep_alive(t: &Template, n: usize) -> Vec<RawRecord> {
    let mut records = Vec::with_capacity(3 + n * t.chunks.len());
    records.extend(t.exec.clone());
    records.push(t.open.clone());
    let step = t.span_ns + 1_000_000;
    let mut last = t.open.ts();
    for i in 0..n as u64 {
        for c in &t.chunks {
            let base = match c.direction {
                Direction::Egress => i * t.egress_len,
                Direction::Ingress => i * t.ingress_len,
            };
            let mut c = c.clone();
            c.seq += base;
            c.ts = shift(c.ts, i * step);
            last = c.ts;
            records.push(RawRecord::Data(c));
        }
    }
    let RawRecord::ConnOpen(o) = &t.open else {
        unreachable!()
    };
    records.push(RawRecord::ConnClose(ConnClose {
        conn_id: o.conn_id,
        ts: shift(last, 1_000),
        pid: o.pid,
    }));
    records
}

const NON_STREAMING: &[Pick] = &[
    // curl, identity-coded JSON body.
    Pick {
        id: "openai-chat-curl",
        fixture: "curl-h1",
        request: "POST /v1/chat/completions ",
        streaming: false,
        request_contains: "",
        response_head_contains: "content-length:",
    },
    // Python openai SDK; the response body is gzip-coded (the SDK sends Accept-Encoding).
    Pick {
        id: "openai-chat-python-gzip",
        fixture: "openai-python",
        request: "POST /v1/chat/completions ",
        streaming: false,
        request_contains: "",
        response_head_contains: "content-encoding: gzip",
    },
    Pick {
        id: "anthropic-messages-python-gzip",
        fixture: "anthropic-python",
        request: "POST /v1/messages ",
        streaming: false,
        request_contains: "",
        response_head_contains: "content-encoding: gzip",
    },
];

const STREAMING: &[Pick] = &[
    Pick {
        id: "openai-chat-stream-usage-python",
        fixture: "openai-python",
        request: "POST /v1/chat/completions ",
        streaming: true,
        request_contains: "include_usage",
        response_head_contains: "",
    },
    Pick {
        id: "anthropic-messages-stream-python",
        fixture: "anthropic-python",
        request: "POST /v1/messages ",
        streaming: true,
        request_contains: "",
        response_head_contains: "",
    },
];

fn configure(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    g.sample_size(20);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
}

fn bench_fixtures(c: &mut Criterion) {
    let mut g = c.benchmark_group("fixture");
    configure(&mut g);
    for name in fixture_names() {
        if name == LARGE_PROMPT {
            continue;
        }
        let records = load(&name);
        let (events, stats) = run_decoder(&records);
        assert!(
            events > 0 && stats.ai_calls > 0,
            "{name}: no AI calls decoded"
        );
        g.throughput(Throughput::Bytes(payload_bytes(&records)));
        g.bench_function(format!("decoder/{name}"), |b| {
            b.iter(|| run_decoder(black_box(&records)))
        });
    }
    g.finish();
}

fn bench_exchanges(c: &mut Criterion, group: &str, picks: &[Pick]) {
    let mut g = c.benchmark_group(group);
    configure(&mut g);
    for pick in picks {
        let t = template(pick);
        let records = keep_alive(&t, EXCHANGES);
        let (_, stats) = run_decoder(&records);
        assert_eq!(
            (stats.exchanges, stats.ai_calls, stats.warnings),
            (EXCHANGES as u64, EXCHANGES as u64, 0),
            "{}: the synthetic connection does not decode to {EXCHANGES} clean AI calls",
            pick.id
        );
        assert_eq!(run_tracker(&records), EXCHANGES, "{}", pick.id);
        g.throughput(Throughput::ElementsAndBytes {
            elements: EXCHANGES as u64,
            bytes: payload_bytes(&records),
        });
        g.bench_function(format!("decoder/{}", pick.id), |b| {
            b.iter(|| run_decoder(black_box(&records)))
        });
        g.bench_function(format!("http/{}", pick.id), |b| {
            b.iter(|| run_tracker(black_box(&records)))
        });
    }
    g.finish();
}

fn bench_non_streaming(c: &mut Criterion) {
    bench_exchanges(c, "nonstream", NON_STREAMING);
}

fn bench_streaming(c: &mut Criterion) {
    bench_exchanges(c, "stream", STREAMING);
}

fn bench_large_prompt(c: &mut Criterion) {
    let records = load(LARGE_PROMPT);
    let (_, stats) = run_decoder(&records);
    assert!(stats.ai_calls >= 1, "{LARGE_PROMPT}: no AI call decoded");
    let mut g = c.benchmark_group("large_prompt");
    configure(&mut g);
    g.throughput(Throughput::Bytes(payload_bytes(&records)));
    g.bench_function(format!("decoder/{LARGE_PROMPT}"), |b| {
        b.iter(|| run_decoder(black_box(&records)))
    });
    g.bench_function(format!("http/{LARGE_PROMPT}"), |b| {
        b.iter(|| run_tracker(black_box(&records)))
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_fixtures,
    bench_non_streaming,
    bench_streaming,
    bench_large_prompt
);
criterion_main!(benches);
