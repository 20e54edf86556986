//! `show` and `analyze` on the event store, as a user runs them: the default store (via
//! `OISP_STORE`), `-i` naming a store, `--grep`, `--model`, `--follow`, and reads while another
//! process writes. JSON Lines input must give the same answers.

use oisp_event::Event;
use oisp_sinks::Item;
use oisp_store::{Query, Store};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin(store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_oisp-sensor"));
    c.env("OISP_STORE", store).env("NO_COLOR", "1");
    c
}

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);
impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("oisp-store-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// `demo` into the store and, in the same run, into a JSON Lines file.
fn demo(dir: &Path) -> (PathBuf, PathBuf) {
    let store = dir.join("state/events.db");
    let jsonl = dir.join("demo.jsonl");
    run(bin(&store).arg("demo").arg("-o").arg(&jsonl));
    (store, jsonl)
}

#[test]
fn missing_default_store_says_how_to_get_events() {
    let dir = TempDir::new("missing");
    let store = dir.0.join("none/events.db");
    for cmd in [&["show"][..], &["analyze"][..]] {
        let out = bin(&store).args(cmd).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("no events yet at {}", store.display()))
                && err.contains("oisp-sensor demo")
                && err.contains("sudo oisp-sensor record"),
            "{err}"
        );
    }
    assert!(!store.exists(), "reading must not create the store");
}

#[test]
fn store_and_jsonl_inputs_agree() {
    let dir = TempDir::new("agree");
    let (store, jsonl) = demo(&dir.0);
    let mode = std::fs::metadata(&store).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // every event, exactly the lines the JSON Lines sink wrote
    let from_store: BTreeSet<String> = stdout_lines(&run(bin(&store).args(["show", "--json"])))
        .into_iter()
        .collect();
    let from_file: BTreeSet<String> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(from_file.len() > 200);
    assert_eq!(from_store, from_file);
    // the same selections from both inputs (the store in time order, the file in its order)
    let selections: &[&[&str]] = &[
        &["--type", "ai.response"],
        &["--type", "agent"],
        &["--provider", "anthropic"],
        &["--process", "node"],
        &["--model", "GPT-4O"],
        &["--grep", "paris"],
        &["--grep", "MOCK REPLY", "--type", "ai.response"],
        &["--grep", "\"quoted\" OR *"],
        &["--grep", "pa"],
        &["--since", "2026-11-25T11:04:30Z"],
    ];
    for sel in selections {
        // event id → event; numbers compared to 1e-9 relative (JSON Lines input is parsed and
        // re-encoded, which may change the last digit of a float; the store prints it as written)
        let set = |input: Option<&Path>| -> std::collections::BTreeMap<String, Value> {
            let mut c = bin(&store);
            c.args(["show", "--json"]).args(*sel);
            if let Some(i) = input {
                c.arg("-i").arg(i);
            }
            stdout_lines(&run(&mut c))
                .iter()
                .map(|l| {
                    let v: Value = serde_json::from_str(l).unwrap();
                    (v["event_id"].as_str().unwrap().to_string(), v)
                })
                .collect()
        };
        let a = set(None);
        for (what, b) in [
            ("-i JSONL", set(Some(&jsonl))),
            ("-i STORE", set(Some(&store))),
        ] {
            assert!(
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| close(v, w))),
                "{sel:?} {what}: {} vs {} events",
                a.len(),
                b.len()
            );
        }
        if !sel.contains(&"\"quoted\" OR *") {
            assert!(!a.is_empty(), "{sel:?} selected nothing");
        }
    }
    // reports: same figures (costs summed in a different order may differ in the last digit)
    for report in [
        "summary",
        "costs",
        "providers",
        "models",
        "tools",
        "processes",
    ] {
        let get = |input: Option<&Path>| -> Value {
            let mut c = bin(&store);
            c.args(["analyze", "-f", "json", "-r", report]);
            if let Some(i) = input {
                c.arg("-i").arg(i);
            }
            serde_json::from_slice(&run(&mut c).stdout).unwrap()
        };
        let (a, b) = (get(None), get(Some(&jsonl)));
        assert!(close(&a, &b), "{report}: {a:#}\nvs\n{b:#}");
    }
}

/// Equal, with numbers equal to 1e-9 relative (first/last event rows aside: file order differs).
fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-12)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            if x.get("metric")
                .and_then(Value::as_str)
                .is_some_and(|m| m.ends_with(" event"))
            {
                return true;
            }
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn timeline_limit_keeps_calls_whole() {
    let dir = TempDir::new("limit");
    let (store, _) = demo(&dir.0);
    let full = stdout_lines(&run(bin(&store).arg("show")));
    // each call is two lines (request, response); the last N entries of the full timeline
    for n in [1usize, 3, 10, 25] {
        let got = stdout_lines(&run(bin(&store).args(["show", "-n", &n.to_string()])));
        assert!(full.ends_with(&got), "-n {n}: {got:#?}");
        let entries = got.iter().filter(|l| !l.starts_with(' ')).count();
        assert_eq!(entries, n, "-n {n}");
    }
}

#[test]
fn foreign_sqlite_file_is_refused_with_a_clear_error() {
    let dir = TempDir::new("foreign");
    let other = dir.0.join("other.db");
    foreign_db(&other);
    let out = bin(&dir.0.join("unused.db"))
        .args(["show", "-i"])
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an oisp-sensor event store"), "{err}");
}

/// An SQLite database that is not a store: one of the sensor's own disk queues (a realistic
/// mistake: they live next to the store).
fn foreign_db(path: &Path) {
    let q = oisp_sinks::DiskQueue::open(
        path,
        oisp_sinks::QueueLimits {
            max_events: 10,
            max_bytes: 1 << 20,
        },
    )
    .unwrap();
    drop(q);
    assert!(oisp_store::is_sqlite_file(path).unwrap());
}

fn golden() -> Vec<Event> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "jsonl") {
            for line in std::fs::read_to_string(&p).unwrap().lines() {
                out.push(serde_json::from_str(line).unwrap());
            }
        }
    }
    out
}

/// Fresh copies of the golden events (new ids, timestamps from `start_ns`, 1 ms apart).
fn fresh(n: usize, tag: &str, start_ns: u64) -> Vec<Item> {
    let g = golden();
    (0..n)
        .map(|i| {
            let mut ev = g[i % g.len()].clone();
            ev.event_id = format!("{tag}{i:020}");
            ev.ts = oisp_event::format_ts(start_ns + i as u64 * 1_000_000);
            Item::new(ev).unwrap()
        })
        .collect()
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[test]
fn follow_prints_events_written_after_it_started() {
    let dir = TempDir::new("follow");
    let store_path = dir.0.join("events.db");
    let mut store = Store::open(&store_path).unwrap();
    store.insert_batch(&fresh(50, "OLD", now_ns())).unwrap();
    let mut child = bin(&store_path)
        .args(["show", "--follow", "--json", "--type", "ai.request"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let new = fresh(300, "NEW", now_ns());
    store.insert_batch(&new).unwrap();
    let want = new
        .iter()
        .filter(|i| i.event.event_type() == "ai.request")
        .count();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while got.iter().filter(|l: &&String| l.contains("\"NEW")).count() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => got.push(l),
            Err(_) => break,
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let old = got.iter().filter(|l| l.contains("\"OLD")).count();
    let newer = got.iter().filter(|l| l.contains("\"NEW")).count();
    assert!(old > 0, "initial events not shown");
    assert_eq!(newer, want, "followed {newer} of {want} new requests");
    assert!(got
        .iter()
        .all(|l| l.contains("\"event_type\":\"ai.request\"")));
}

#[test]
fn show_and_analyze_while_another_process_writes() {
    let dir = TempDir::new("concurrent");
    let store_path = dir.0.join("events.db");
    let mut store = Store::open(&store_path).unwrap();
    store.insert_batch(&fresh(500, "A", now_ns())).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut i = 0;
            let start = now_ns();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let batch = fresh(100, &format!("W{i:05}-"), start + i * 100_000_000);
                store.insert_batch(&batch).unwrap();
                i += 1;
            }
            i * 100
        })
    };
    let mut runs = 0;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        for args in [
            &["show", "-n", "20"][..],
            &["show", "--grep", "weather", "--json"][..],
            &["analyze", "-r", "models"][..],
        ] {
            let out = bin(&store_path).args(args).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{args:?}: {err}");
            assert!(!err.contains("locked"), "{args:?}: {err}");
            runs += 1;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let written = writer.join().unwrap();
    assert!(runs >= 3 && written > 0);
    let check = Store::open_existing(&store_path).unwrap();
    assert_eq!(check.count().unwrap(), 500 + written);
    assert!(check.events(&Query::default(), Some(1)).unwrap().len() == 1);
}

#[test]
fn full_timeline_from_pages_equals_the_in_memory_timeline() {
    // 4,500 events over several pages; request ids repeat every 244 events, so calls pair
    // across pages and the same id appears many times (a request takes the last response).
    let dir = TempDir::new("pages");
    let store_path = dir.0.join("events.db");
    let mut store = Store::open(&store_path).unwrap();
    store.insert_batch(&fresh(4500, "P", now_ns())).unwrap();
    let dump = dir.0.join("dump.jsonl");
    let json = run(bin(&store_path).args(["show", "--json"])).stdout;
    std::fs::write(&dump, &json).unwrap();
    for sel in [&[][..], &["--type", "ai"][..], &["--process", "python"][..]] {
        let paged = run(bin(&store_path).arg("show").args(sel)).stdout;
        let memory = run(bin(&store_path).arg("show").arg("-i").arg(&dump).args(sel)).stdout;
        assert!(!paged.is_empty());
        assert!(
            paged == memory,
            "{sel:?}: store and JSON Lines timelines differ"
        );
        let full: Vec<String> = String::from_utf8(paged)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        for n in ["1", "40", "700"] {
            let got = stdout_lines(&run(bin(&store_path).args(["show", "-n", n]).args(sel)));
            assert!(full.ends_with(&got), "{sel:?} -n {n}");
            let entries = got.iter().filter(|l| !l.starts_with(' ')).count();
            assert_eq!(entries.to_string(), n, "{sel:?} -n {n}");
        }
    }
}
