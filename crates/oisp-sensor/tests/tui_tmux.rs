//! `oisp-sensor tui` as a user sees it: the TUI runs in a real terminal (a detached tmux session
//! 180×50), keys are sent with `send-keys` and the screen read with `capture-pane`. Every
//! capture is saved under `<target>/artifacts/tui/`. Waits poll the screen until a deadline.
//!
//! Needs tmux (scripts/install-deps.sh installs it): without it these tests fail and say so.
//! `record_tui_*` needs root and BPF, as the other record tests (OISP_SKIP_ROOT_TESTS=1 skips).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_oisp-sensor");
/// Longest wait for a screen.
const DEADLINE: Duration = Duration::from_secs(20);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `<target>/artifacts/tui/` (the target directory holds the binary under test).
fn artifacts() -> PathBuf {
    let target = Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .expect("binary under <target>/<profile>/");
    let dir = target.join("artifacts/tui");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);
impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("oisp-tui-{name}-{}", std::process::id()));
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

fn run_ok(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A store filled by `demo`.
fn demo_store(dir: &Path) -> PathBuf {
    let store = dir.join("events.db");
    run_ok(Command::new(BIN).args(["demo", "--store"]).arg(&store));
    store
}

/// A store filled by `replay` of a fixture.
fn replay_into(store: &Path, fixture: &str) {
    run_ok(
        Command::new(BIN)
            .arg("replay")
            .arg(repo().join(fixture))
            .arg("--store")
            .arg(store)
            .args(["-o", "/dev/null"]),
    );
}

/// A shell in a detached tmux session of its own (its own server socket), killed on drop.
struct Tmux {
    socket: String,
    name: String,
    step: usize,
}

impl Tmux {
    /// Starts `bash` in a 180×50 terminal with `env` set; fails (never skips) without tmux.
    fn start(name: &str, env: &[(&str, &Path)]) -> Tmux {
        if let Err(e) = Command::new("tmux").arg("-V").output() {
            panic!("tmux is needed for the TUI tests and cannot be run ({e}): install it (scripts/install-deps.sh)");
        }
        let socket = format!("oisp-tui-{name}-{}", std::process::id());
        let mut shell = String::from("env PS1='$ ' ");
        for (k, v) in env {
            shell.push_str(&format!("{k}='{}' ", v.display()));
        }
        shell.push_str("bash --norc --noprofile");
        let t = Tmux {
            socket,
            name: name.to_string(),
            step: 0,
        };
        let out = t
            .tmux()
            .args(["new-session", "-d", "-x", "180", "-y", "50", &shell])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    /// Sends keys (tmux key names: `Enter`, `Escape`, `q`, or literal text with `-l`).
    fn keys(&self, keys: &[&str]) {
        run_ok(self.tmux().arg("send-keys").args(keys));
    }

    /// Types `text` literally, then Enter.
    fn line(&self, text: &str) {
        run_ok(self.tmux().args(["send-keys", "-l", text]));
        self.keys(&["Enter"]);
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&run_ok(self.tmux().args(["capture-pane", "-p"])).stdout)
            .into_owned()
    }

    /// Polls the screen until `ok` holds (then saves it as artifact `<name>-<n>-<what>.txt`);
    /// fails with the last screen at the deadline.
    fn wait(&mut self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            let good = ok(&screen);
            if good || start.elapsed() > DEADLINE {
                self.step += 1;
                let file = artifacts().join(format!(
                    "{}-{:02}-{}.txt",
                    self.name,
                    self.step,
                    what.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                ));
                std::fs::write(&file, &screen).unwrap();
                assert!(
                    good,
                    "timed out waiting for {what}; screen ({}):\n{screen}",
                    file.display()
                );
                return screen;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
    }
}

/// The list's rows: the lines between the list's title and the footer.
fn list_rows(screen: &str) -> Vec<&str> {
    let lines: Vec<&str> = screen.lines().collect();
    let Some(top) = lines.iter().position(|l| l.contains(" events (")) else {
        return Vec::new();
    };
    lines[top + 1..lines.len().saturating_sub(1)]
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// The number of entries the list's title gives.
fn list_count(screen: &str) -> usize {
    screen
        .split(" events (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Whether the view on screen has this title (on the line under the two bars).
fn pane_title(screen: &str, title: &str) -> bool {
    screen.lines().nth(2).is_some_and(|l| l.starts_with(title))
}

/// USD as the TUI prints it.
fn usd(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.2}")
    } else if v >= 0.01 {
        format!("{v:.4}")
    } else if v >= 0.0001 || v == 0.0 {
        format!("{v:.6}")
    } else {
        format!("{v:.8}")
    }
}

/// The totals bar `analyze` implies for `store`.
fn expected_totals(store: &Path) -> String {
    let out = run_ok(
        Command::new(BIN)
            .args(["analyze", "--format", "json", "-i"])
            .arg(store),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let metric = |name: &str| -> Value {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == name)
            .map(|r| r["value"].clone())
            .unwrap_or_else(|| panic!("no {name} in {v}"))
    };
    let int = |name: &str| metric(name).as_u64().unwrap();
    format!(
        "AI calls {} · tokens {} · cost ${} · events {}",
        int("ai calls"),
        int("prompt tokens") + int("completion tokens"),
        usd(metric("cost usd").as_f64().unwrap()),
        int("events")
    )
}

/// Starts the TUI over `store` in `t`'s shell (no record state visible).
fn open_tui(t: &Tmux, store: &Path) {
    t.line(&format!(
        "{BIN} tui -i '{}'; echo \"BACK-$?\"",
        store.display()
    ));
}

#[test]
fn demo_store_list_totals_detail_filter_and_quit() {
    let dir = TempDir::new("demo");
    let store = demo_store(&dir.0);
    let totals = expected_totals(&store);
    let state = dir.0.join("no-record-state.json");
    let mut t = Tmux::start("demo", &[("OISP_STATE_FILE", &state)]);
    open_tui(&t, &store);
    let s = t.wait("list", |s| s.contains("Hello OpenRouter from curl"));
    let first = s.lines().next().unwrap_or("");
    assert!(
        first.contains(&totals),
        "totals bar {first:?}, want {totals:?}"
    );
    assert!(first.contains("no record running"), "{first}");
    assert!(s.contains("openai/gpt-4o-mini"), "{s}");

    // `/` filters over the store's text search: only matching rows.
    t.keys(&["/"]);
    t.wait("filter prompt", |s| s.contains("filter (enter apply"));
    t.keys(&["-l", "Hello OpenRouter"]);
    t.keys(&["Enter"]);
    let s = t.wait("filtered", |s| {
        s.contains("filter \"Hello OpenRouter\"") && list_rows(s).len() == 1
    });
    let rows = list_rows(&s);
    assert!(
        rows[0].contains("openai/gpt-4o-mini › Hello OpenRouter from curl"),
        "{rows:?}"
    );

    // enter: the conversation, the whole response and its cost.
    t.keys(&["Enter"]);
    let s = t.wait("detail", |s| {
        pane_title(s, " detail ") && s.contains("cost $0.00001050")
    });
    assert!(
        s.contains("[user]") && s.contains("  Hello OpenRouter from curl"),
        "{s}"
    );
    assert!(
        s.contains("[assistant]")
            && s.contains("This is a mock reply to: \"Hello OpenRouter from curl\""),
        "{s}"
    );
    assert!(
        s.contains("tokens 14 in → 14 out") && s.contains("cost $0.00001050"),
        "{s}"
    );

    // esc back to the filtered list, esc again clears the filter.
    t.keys(&["Escape"]);
    t.wait("back to the list", |s| list_rows(s).len() == 1);
    t.keys(&["Escape"]);
    t.wait("filter cleared", |s| {
        list_rows(s).len() > 40 && !s.contains("filter \"")
    });

    // `?` help, then `q` gives the shell its terminal back.
    t.keys(&["?"]);
    t.wait("help", |s| pane_title(s, " help ") && s.contains("Top bar"));
    t.keys(&["q"]);
    let s = t.wait("shell back", |s| s.contains("BACK-0"));
    assert!(
        !s.contains("AI calls"),
        "the TUI's screen is still shown:\n{s}"
    );
    t.line("echo typed-$((40+2))");
    t.wait("shell usable", |s| s.contains("typed-42"));
}

#[test]
fn agent_trace_sessions_and_process_tree() {
    let dir = TempDir::new("agents");
    let store = dir.0.join("events.db");
    replay_into(&store, "fixtures/agents/two-agents.oraw");
    let state = dir.0.join("no-record-state.json");
    let mut t = Tmux::start("agents", &[("OISP_STATE_FILE", &state)]);
    open_tui(&t, &store);
    t.wait("list", |s| list_rows(s).len() > 30);

    // `t` on an event of Claude Code's session: the tool call and the command it ran.
    t.keys(&["/"]);
    t.keys(&["-l", "alpha-from-claude"]);
    t.keys(&["Enter"]);
    t.wait("filtered", |s| s.contains("filter \"alpha-from-claude\""));
    t.keys(&["t"]);
    let s = t.wait("trace", |s| {
        pane_title(s, " trace ") && s.contains("exec tee /tmp/r2/proj/claude-a.txt")
    });
    assert!(s.contains("agent claude-code"), "{s}");
    assert!(
        s.contains(
            "tool Bash {\"command\":\"echo alpha-from-claude | tee /tmp/r2/proj/claude-a.txt\""
        ),
        "{s}"
    );
    assert!(s.contains("exec tee /tmp/r2/proj/claude-a.txt"), "{s}");
    // (one Escape at a time: two in one write read as Alt+Escape)
    t.keys(&["Escape"]);
    t.wait("back to the list", |s| s.contains(" events ("));

    // `s`: both agents' sessions; enter on the selected one shows its trace.
    t.keys(&["s"]);
    let s = t.wait("sessions", |s| {
        pane_title(s, " agent sessions ") && s.contains("claude-code") && s.contains("codex")
    });
    assert!(s.contains("claude-code") && s.contains("codex"), "{s}");
    t.keys(&["Home", "Enter"]);
    let s = t.wait("session trace", |s| {
        pane_title(s, " trace ") && s.contains("agent codex")
    });
    assert!(s.contains("agent codex"), "{s}");
    t.keys(&["Escape"]);
    t.wait("back to the sessions", |s| {
        pane_title(s, " agent sessions ")
    });
    t.keys(&["Escape"]);
    t.wait("back to the filtered list", |s| s.contains(" events ("));
    t.keys(&["Escape"]);
    t.wait("filter cleared", |s| {
        !s.contains("filter \"") && list_rows(s).len() > 30
    });

    // `p`: the agents under their ancestors, their children, with AI calls and tokens.
    t.keys(&["p"]);
    let s = t.wait("process tree", |s| {
        pane_title(s, " processes (parent → child) ")
            && s.lines()
                .any(|l| l.contains("└─ claude[10207]") && l.contains("24867"))
            && s.contains("tee[10709]")
    });
    let tee = s.lines().find(|l| l.contains("tee[10709]")).unwrap_or("");
    assert!(
        tee.contains("└─ tee[10709]") || tee.contains("├─ tee[10709]"),
        "{s}"
    );

    // The store holds more than the first window: k at the top of the list reads older events.
    t.keys(&["Escape"]);
    let s = t.wait("list again", |s| s.contains(" events ("));
    assert!(s.contains("older events: k/↑ at the top"), "{s}");
    let before = list_count(&s);
    t.keys(&["Home"]);
    t.wait("at the top", |s| {
        s.contains(" events (") && !s.contains("· following")
    });
    t.keys(&["k"]);
    let s = t.wait("older events", |s| list_count(s) > before);
    // Once more: the remaining events, then nothing older is left.
    let before = list_count(&s);
    t.keys(&["Home"]);
    t.wait("at the top again", |s| {
        s.contains(" events (") && !s.contains("· following")
    });
    t.keys(&["k"]);
    t.wait("all events read", |s| {
        list_count(s) > before && !s.contains("older events: k/↑")
    });
    t.keys(&["q"]);
    t.wait("shell back", |s| s.contains("BACK-0"));
}

#[test]
fn new_events_appear_live_without_restart() {
    let dir = TempDir::new("live");
    let store = demo_store(&dir.0);
    let state = dir.0.join("no-record-state.json");
    let mut t = Tmux::start("live", &[("OISP_STATE_FILE", &state)]);
    open_tui(&t, &store);
    t.wait("list", |s| s.contains("events 330"));
    // Another process writes the store while the TUI runs.
    replay_into(&store, "fixtures/agents/two-agents.oraw");
    let s = t.wait("live rows", |s| {
        s.contains("codex[10206]") && s.contains("events 4795")
    });
    assert!(s.contains("· following"), "{s}");
    t.keys(&["q"]);
    t.wait("shell back", |s| s.contains("BACK-0"));
}

#[test]
fn refuses_without_a_terminal_or_a_store() {
    let dir = TempDir::new("refuse");
    let store = demo_store(&dir.0);
    let out = Command::new(BIN)
        .args(["tui", "-i"])
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a terminal on standard output"), "{err}");

    let missing = dir.0.join("nothing.db");
    let out = Command::new(BIN)
        .args(["tui", "-i"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no event store at"), "{err}");

    let jsonl = dir.0.join("events.jsonl");
    std::fs::write(&jsonl, "{}\n").unwrap();
    let out = Command::new(BIN)
        .args(["tui", "-i"])
        .arg(&jsonl)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is JSON Lines"), "{err}");

    let empty_default = Command::new(BIN)
        .arg("tui")
        .env("OISP_STORE", &missing)
        .output()
        .unwrap();
    assert_eq!(empty_default.status.code(), Some(1));
    let err = String::from_utf8_lossy(&empty_default.stderr);
    assert!(err.contains("no events yet at"), "{err}");

    let out = Command::new(BIN)
        .args(["record", "--tui", "--no-store"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("record --tui shows the event store"), "{err}");
}

/// Whether this test runs as root (live capture needs it).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

#[test]
fn record_tui_shows_live_capture_and_q_stops_the_recording() {
    if !is_root() {
        if std::env::var("OISP_SKIP_ROOT_TESTS").as_deref() == Ok("1") {
            eprintln!("skipped: record --tui needs root and BPF (OISP_SKIP_ROOT_TESTS=1)");
            return;
        }
        panic!("record --tui needs root and BPF: run as root, or set OISP_SKIP_ROOT_TESTS=1");
    }
    let dir = TempDir::new("record");
    let store = dir.0.join("events.db");
    let state = dir.0.join("state.json");
    // A program of a name of its own: the kernel filter keeps the capture to it.
    let marker = dir.0.join("oisp-tui-mark");
    std::fs::copy("/bin/echo", &marker).unwrap();
    let mut t = Tmux::start("record", &[("OISP_STATE_FILE", &state)]);
    t.line(&format!(
        "{BIN} record --tui --all-processes --no-file -p oisp-tui-mark --store '{}'; echo \"BACK-$?\"",
        store.display()
    ));
    // The drops of this very record (its state file), and where its messages go.
    let s = t.wait("recording", |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.contains(": drops: 0 TLS + 0 system"))
            && s.contains("recording · log")
    });
    assert!(s.contains("record-tui.log"), "{s}");
    let word = format!("hello-tui-marker-{}", std::process::id());
    run_ok(Command::new(&marker).arg(&word));
    t.wait("captured live", |s| s.contains(&word));
    t.keys(&["q"]);
    let s = t.wait("recording stopped", |s| s.contains("BACK-0"));
    assert!(s.contains("oisp-sensor: stopped:"), "{s}");
    assert!(
        s.contains("messages written while the terminal UI was shown:"),
        "{s}"
    );
    assert!(
        !s.contains("AI calls 0 ·"),
        "the TUI's screen is still shown:\n{s}"
    );
}

/// Whether process `pid` has ended (gone, or a zombie waiting for its parent).
fn ended(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn record_tui_ends_when_its_terminal_closes() {
    if !is_root() {
        if std::env::var("OISP_SKIP_ROOT_TESTS").as_deref() == Ok("1") {
            eprintln!("skipped: record --tui needs root and BPF (OISP_SKIP_ROOT_TESTS=1)");
            return;
        }
        panic!("record --tui needs root and BPF: run as root, or set OISP_SKIP_ROOT_TESTS=1");
    }
    let dir = TempDir::new("hangup");
    let store = dir.0.join("events.db");
    let state = dir.0.join("state.json");
    let mut t = Tmux::start("hangup", &[("OISP_STATE_FILE", &state)]);
    t.line(&format!(
        "{BIN} record --tui --no-file -p oisp-no-such --store '{}'",
        store.display()
    ));
    // The bar shows this record's drops once it has published its state (with its pid).
    t.wait("recording", |s| {
        s.contains("recording · log") && s.lines().next().is_some_and(|l| l.contains(": drops:"))
    });
    let pid = serde_json::from_str::<Value>(&std::fs::read_to_string(&state).unwrap()).unwrap()
        ["pid"]
        .as_u64()
        .unwrap();
    // The terminal goes away (its window closed): SIGHUP is record's reload, so the TUI itself
    // must notice, end, and stop the recording.
    drop(t);
    let start = Instant::now();
    while !ended(pid) {
        assert!(
            start.elapsed() < DEADLINE,
            "record --tui {pid} still runs after its terminal closed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
