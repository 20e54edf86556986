//! `oisp_pipeline::run` over the sources of `oisp_capture`: a sequence of captures decodes each
//! as its own capture (as `decode_capture` does), a damaged capture's records are decoded before
//! its error is returned, and the decoder's ignorable connections go back to the source.

use oisp_capture::*;
use oisp_pipeline::{run, NoHooks, Pipeline};
use oisp_redact::{RedactionMode, Redactor};
use oisp_sinks::filter::EventMatcher;
use oisp_sinks::{DeliveryError, Item, Sink, SinkSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Collects the ids of the events it is given.
struct Ids(Arc<Mutex<Vec<String>>>);

impl Sink for Ids {
    fn kind(&self) -> &'static str {
        "ids"
    }
    fn target(&self) -> String {
        "memory".into()
    }
    fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
        let mut ids = self.0.lock().unwrap();
        ids.extend(batch.iter().map(|i| i.event.event_id.clone()));
        Ok(())
    }
}

fn pipeline() -> (Pipeline, Arc<Mutex<Vec<String>>>) {
    let ids = Arc::new(Mutex::new(Vec::new()));
    let mut sinks = SinkSet::new();
    sinks.add_local("ids", Box::new(Ids(Arc::clone(&ids))), None);
    let p = Pipeline::new(
        sinks,
        Redactor::new(RedactionMode::Full),
        EventMatcher::default(),
    );
    (p, ids)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = oisp_testkit::repo_root().join(format!("fixtures/captures/{name}.oraw"));
    std::fs::read(&path).unwrap()
}

fn expected_ids(bytes: &[u8]) -> Vec<String> {
    oisp_decode::decode_capture(bytes)
        .0
        .into_iter()
        .map(|e| e.event_id)
        .collect()
}

#[test]
fn a_sequence_decodes_each_capture_on_its_own() {
    let names = ["curl-h1", "openai-python", "curl-h2"];
    let captures: Vec<(String, Vec<u8>)> =
        names.iter().map(|n| (n.to_string(), fixture(n))).collect();
    let expected: Vec<String> = captures.iter().flat_map(|(_, b)| expected_ids(b)).collect();
    let mut source = SequenceSource::new(
        captures
            .iter()
            .map(|(n, b)| (n.clone(), b.as_slice()))
            .collect(),
    )
    .unwrap();
    let (mut p, ids) = pipeline();
    run(&mut source, &mut p, &mut NoHooks).unwrap();
    p.close(Duration::from_secs(1)).unwrap();
    assert!(!expected.is_empty());
    assert_eq!(*ids.lock().unwrap(), expected);
    let records: usize = captures.iter().map(|(_, b)| read_all(b).0.len()).sum();
    assert_eq!(source.stats().records, records as u64);
}

#[test]
fn a_damaged_capture_is_decoded_up_to_the_damage_then_reported() {
    let whole = fixture("openai-python");
    let cut = &whole[..whole.len() * 2 / 3];
    let (before, err) = read_all(cut);
    assert!(err.is_some() && !before.is_empty());
    let mut source = ReplaySource::new(cut).unwrap();
    let (mut p, ids) = pipeline();
    let e = run(&mut source, &mut p, &mut NoHooks).unwrap_err();
    assert!(format!("{e:#}").contains("at byte"), "{e:#}");
    assert_eq!(p.stats().records, before.len() as u64);
    p.close(Duration::from_secs(1)).unwrap();
    assert_eq!(*ids.lock().unwrap(), expected_ids(cut));
}

fn ts(ms: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_800_000_000_000_000_000 + ms * 1_000_000,
        mono_ns: ms * 1_000_000,
    }
}

/// A client connection with `n` plain, clearly non-AI HTTP/1.1 exchanges, one per poll.
struct Static {
    batches: Vec<Vec<RawRecord>>,
    ignored: Vec<u64>,
}

impl Static {
    fn new(conn_id: u64, n: usize) -> Self {
        let mut batches = vec![vec![RawRecord::ConnOpen(ConnOpen {
            conn_id,
            ts: ts(0),
            pid: 42,
            tid: 42,
            role: ConnRole::Client,
            source: DataSource::OpenSsl,
            local: Some("127.0.0.1:40000".parse().unwrap()),
            remote: Some("127.0.0.1:8443".parse().unwrap()),
            sni: Some("cdn.example.org".into()),
            alpn: None,
        })]];
        let req = b"GET /app.js HTTP/1.1\r\nHost: cdn.example.org\r\n\r\n";
        let resp =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/javascript\r\ncontent-length: 1\r\n\r\nx";
        let chunk = |direction, seq, ms, bytes: &[u8]| {
            RawRecord::Data(DataChunk {
                conn_id,
                direction,
                seq,
                ts: ts(ms),
                pid: 42,
                tid: 42,
                source: DataSource::OpenSsl,
                truncated_len: 0,
                bytes: bytes.to_vec(),
            })
        };
        for i in 0..n as u64 {
            batches.push(vec![
                chunk(Direction::Egress, i * req.len() as u64, 2 * i + 1, req),
                chunk(Direction::Ingress, i * resp.len() as u64, 2 * i + 2, resp),
            ]);
        }
        batches.reverse();
        Static {
            batches,
            ignored: Vec::new(),
        }
    }
}

impl Source for Static {
    fn meta(&self) -> &str {
        "{}"
    }
    fn poll(&mut self, _: Duration, out: &mut Vec<RawRecord>) -> Result<Progress, SourceError> {
        out.extend(self.batches.pop().unwrap_or_default());
        Ok(if self.batches.is_empty() {
            Progress::End
        } else {
            Progress::More
        })
    }
    fn finish(&mut self, _: &mut Vec<RawRecord>) {}
    fn stats(&self) -> SourceStats {
        SourceStats::default()
    }
    fn ignore_connection(&mut self, conn_id: u64) -> bool {
        self.ignored.push(conn_id);
        true
    }
}

#[test]
fn connections_without_ai_traffic_go_back_to_the_source() {
    let n = oisp_decode::IGNORE_AFTER as usize;
    let mut source = Static::new(7, n - 1);
    let (mut p, _) = pipeline();
    run(&mut source, &mut p, &mut NoHooks).unwrap();
    assert!(source.ignored.is_empty(), "one exchange too few");

    let mut source = Static::new(7, n + 2);
    let (mut p, _) = pipeline();
    run(&mut source, &mut p, &mut NoHooks).unwrap();
    assert_eq!(source.ignored, vec![7]);
    assert_eq!(p.stats().ignorable_conns, 1);
}
