//! `sink-bench SINK [TARGET] [--events N]`: pushes N real decoded events (the committed fixture
//! captures' events under 64 KiB as JSON — the 1–2 MiB prompt captures would dominate every
//! figure — repeated with fresh ids, cloned as they are sent) through a `SinkSet` holding one sink, the way the pipeline
//! does (send each event, flush every 1,000), waits until the sink has delivered everything, and
//! prints one JSON line: events, wall time, this process's CPU time (all threads: serialisation,
//! queue, encoding, network client), events per CPU-second ("on one core"), and peak RSS.
//!
//! SINK: `none` (serialisation only), `store`, `jsonl` (temp files), `otlp-grpc`, `otlp-http`
//! (TARGET = endpoint), `kafka` (TARGET = brokers, topic `oisp-bench`), `webhook` (TARGET = URL).
//! Receivers run in other processes, so their cost is not counted. bench/sinks.sh runs them all.

use oisp_event::Event;
use oisp_kafka::KafkaConfig;
use oisp_otlp::{OtlpConfig, OtlpProtocol};
use oisp_sinks::JsonlConfig;
use oisp_sinks::{DiskQueue, QueueLimits, RetryPolicy, Sink, SinkSet};
use oisp_store::StoreConfig;
use oisp_webhook::WebhookConfig;
use std::time::{Duration, Instant};

fn fixture_events() -> Vec<Event> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/captures");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures/captures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "oraw"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for p in names {
        let bytes = std::fs::read(&p).unwrap();
        out.extend(oisp_decode::decode_capture(&bytes).0);
    }
    out.retain(|e| serde_json::to_vec(e).is_ok_and(|j| j.len() < 64 * 1024));
    out
}

/// CPU time of this process so far (NaN where getrusage does not exist: the figures then read
/// "NaN" rather than a made-up number).
#[cfg(not(unix))]
fn cpu_seconds() -> f64 {
    f64::NAN
}

#[cfg(unix)]
fn cpu_seconds() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut events_n = 100_000usize;
    let mut pos = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--events" {
            events_n = it.next().and_then(|n| n.parse().ok()).expect("--events N");
        } else {
            pos.push(a.clone());
        }
    }
    let kind = pos.first().cloned().unwrap_or_else(|| {
        eprintln!("usage: sink-bench none|store|jsonl|otlp-grpc|otlp-http|kafka|webhook [TARGET] [--events N]");
        std::process::exit(2)
    });
    let target = pos.get(1).cloned().unwrap_or_default();
    let tmp = std::env::temp_dir().join(format!("oisp-sink-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();

    let base = fixture_events();

    let mut set = SinkSet::new();
    let queued = |set: &mut SinkSet, name: &str, sink: Box<dyn Sink>| {
        let q = DiskQueue::open(
            &tmp.join(format!("{name}.db")),
            QueueLimits {
                max_events: 10_000_000,
                max_bytes: 8 << 30,
            },
        )
        .unwrap();
        set.add_queued(name, sink, q, RetryPolicy::default(), None);
    };
    match kind.as_str() {
        "none" => {}
        "store" => {
            let cfg = StoreConfig {
                path: Some(tmp.join("events.db")),
                ..Default::default()
            };
            set.add_threaded(
                "store",
                Box::new(oisp_store::StoreSink::new(&cfg).unwrap()),
                None,
            );
        }
        "jsonl" => {
            let cfg = JsonlConfig {
                path: tmp.join("events.jsonl"),
                ..Default::default()
            };
            let sink = oisp_sinks::jsonl::JsonlSink::new(&cfg).unwrap();
            set.add_local("jsonl", Box::new(sink), None);
        }
        "otlp-grpc" | "otlp-http" => {
            let cfg = OtlpConfig {
                endpoint: Some(target.clone()),
                protocol: Some(if kind == "otlp-grpc" {
                    OtlpProtocol::Grpc
                } else {
                    OtlpProtocol::HttpProtobuf
                }),
                ..Default::default()
            };
            queued(
                &mut set,
                "otlp",
                Box::new(oisp_otlp::OtlpSink::new(&cfg).unwrap()),
            );
        }
        "kafka" => {
            let cfg = KafkaConfig {
                brokers: target.clone(),
                topic: "oisp-bench".into(),
                ..Default::default()
            };
            queued(
                &mut set,
                "kafka",
                Box::new(oisp_kafka::KafkaSink::new(&cfg).unwrap()),
            );
        }
        "webhook" => {
            let cfg = WebhookConfig {
                url: target.clone(),
                secret: Some("bench-secret".into()),
                ..Default::default()
            };
            queued(
                &mut set,
                "webhook",
                Box::new(oisp_webhook::WebhookSink::new(&cfg).unwrap()),
            );
        }
        other => {
            eprintln!("sink-bench: unknown sink `{other}`");
            std::process::exit(2);
        }
    }

    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    for i in 0..events_n {
        let mut ev = base[i % base.len()].clone();
        ev.event_id = format!("bench{i:012}");
        set.send(ev);
        if i % 1000 == 999 {
            set.flush();
        }
    }
    let sent_wall = t0.elapsed().as_secs_f64();
    let drained = set.drain(Duration::from_secs(120));
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let health = set.shutdown(Duration::from_secs(5));
    let delivered: u64 = health.iter().map(|(_, h)| h.delivered).sum();
    let report = serde_json::json!({
        "sink": kind,
        "distinct_events": base.len(),
        "events": events_n,
        "delivered": if kind == "none" { events_n as u64 } else { delivered },
        "drained": drained,
        "send_wall_s": sent_wall,
        "wall_s": wall,
        "cpu_s": cpu,
        "events_per_cpu_s": (events_n as f64 / cpu).round(),
        "events_per_wall_s": (events_n as f64 / wall).round(),
        "peak_rss_mb": (peak_rss_mb() * 10.0).round() / 10.0,
    });
    println!("{report}");
    let _ = std::fs::remove_dir_all(&tmp);
    if !drained {
        eprintln!("sink-bench: {kind}: not everything was delivered within 120 s");
        std::process::exit(1);
    }
}
