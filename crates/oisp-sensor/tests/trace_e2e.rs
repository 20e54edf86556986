//! Two real agents at once, one of them making parallel tool calls, recorded by
//! `oisp-sensor record` (root, CI): each must come out as its own `agent.session` whose trace
//! tree is right — AI call → tool call → the command it ran and the file that command wrote →
//! the tool's result — in the events, in `show --trace`, and in the spans an OTLP receiver
//! (the official OpenTelemetry protos, tools/otlp-receiver) got from the same `record`.
//!
//! Claude Code is asked (through the mock's scripted tool calls, `[[parallel]]`) to run two Bash
//! commands in one turn; Codex, at the same time, runs one `exec_command`.

mod e2e;
mod otlp_rx;
mod root;

use e2e::{KillOnDrop, Session};
use otlp_rx::OtlpReceiver;
use serde_json::Value;
use std::collections::HashMap;
use std::process::{Command, Stdio};

#[test]
fn two_agents_at_once_make_two_correct_trace_trees() {
    let (Ok(claude), Ok(codex)) = (
        std::env::var("OISP_CLAUDE_BIN"),
        std::env::var("OISP_CODEX_BIN"),
    ) else {
        eprintln!(
            "skipped: OISP_CLAUDE_BIN / OISP_CODEX_BIN not set (tools/agents/fetch.sh fetches \
             the agents; scripts/test.sh sets them)"
        );
        return;
    };
    if !root::root_or_skip("trace_e2e") {
        return;
    }
    put_on_path(&claude);
    put_on_path(&codex);
    let receiver = OtlpReceiver::start(
        std::env::temp_dir().join(format!("oisp-trace-otlp-{}.jsonl", std::process::id())),
    );
    let grpc = receiver.grpc.clone();
    let Some(mut s) = Session::start_with(
        "two_agents",
        &[
            "--otlp",
            &format!("http://127.0.0.1:{grpc}"),
            "--otlp-protocol",
            "grpc",
        ],
    ) else {
        return;
    };
    let file = |n: &str| s.tmp.join(n).display().to_string();
    let (a, b, c) = (
        file("claude-a.txt"),
        file("claude-b.txt"),
        file("codex-c.txt"),
    );
    let cmd_a = format!("echo alpha-from-claude | tee {a}");
    let cmd_b = format!("echo beta-from-claude | tee {b}");
    let cmd_c = format!("echo gamma-from-codex | tee {c}");
    let claude_prompt = format!(
        "Run both at once. [[parallel]] [[tool:Bash {}]] [[tool:Bash {}]]",
        serde_json::json!({"command": cmd_a, "description": "write a"}),
        serde_json::json!({"command": cmd_b, "description": "write b"})
    );
    let codex_prompt = format!(
        "Run this for me. [[tool:exec_command {}]]",
        serde_json::json!({ "cmd": cmd_c })
    );
    let work = s.tmp.join("work");
    let (claude_timeout, codex_timeout) = std::thread::scope(|scope| {
        let claude_run = scope.spawn(|| s.claude_p(&claude_prompt));
        let codex_run = scope.spawn(|| s.codex_exec(&codex_prompt, &work, false));
        (claude_run.join().unwrap(), codex_run.join().unwrap())
    });
    for (f, want) in [
        (&a, "alpha-from-claude"),
        (&b, "beta-from-claude"),
        (&c, "gamma-from-codex"),
    ] {
        assert_eq!(
            std::fs::read_to_string(f).unwrap_or_default().trim(),
            want,
            "the agent did not run the command writing {f}"
        );
    }
    let evs = s.stop();
    let agent_pid = |timeout_pid: u32, what: &str| {
        evs.iter()
            .find(|e| e["event_type"] == "process.exec" && e["process"]["ppid"] == timeout_pid)
            .and_then(|e| e["process"]["pid"].as_u64())
            .unwrap_or_else(|| panic!("no process.exec of {what} (child of {timeout_pid})"))
    };
    let claude_pid = agent_pid(claude_timeout, "claude");
    let codex_pid = agent_pid(codex_timeout, "codex");

    let claude_trace = session_trace(&evs, "claude-code", claude_pid);
    let codex_trace = session_trace(&evs, "codex", codex_pid);
    assert_ne!(claude_trace, codex_trace);
    // Nothing of one agent's tree is in the other's trace.
    for e in &evs {
        let t = e["trace_context"]["trace_id"].as_str();
        if e2e::in_tree(e, claude_pid) {
            assert_ne!(
                t,
                Some(codex_trace.as_str()),
                "claude's event in codex's trace: {e}"
            );
        }
        if e2e::in_tree(e, codex_pid) {
            assert_ne!(
                t,
                Some(claude_trace.as_str()),
                "codex's event in claude's trace: {e}"
            );
        }
    }
    let claude_tools = check_tree(&evs, &claude_trace, "Bash", &[(&cmd_a, &a), (&cmd_b, &b)]);
    let codex_tools = check_tree(&evs, &codex_trace, "exec_command", &[(&cmd_c, &c)]);

    // show --trace draws the same tree.
    let shown = show_trace(&s, &claude_trace);
    for (cmd, f) in [(&cmd_a, &a), (&cmd_b, &b)] {
        let tool = shown
            .iter()
            .position(|l| l.contains("tool Bash") && l.contains(cmd.as_str()))
            .unwrap_or_else(|| {
                panic!(
                    "show --trace: no tool line for {cmd}:\n{}",
                    shown.join("\n")
                )
            });
        let depth = indent(&shown[tool]);
        let below: Vec<&String> = shown[tool + 1..]
            .iter()
            .take_while(|l| indent(l) > depth)
            .collect();
        assert!(
            below.iter().any(|l| l.contains(" exec ")),
            "show --trace: the command is not under its tool call:\n{}",
            shown.join("\n")
        );
        assert!(
            below
                .iter()
                .any(|l| l.contains("write") && l.contains(f.as_str())),
            "show --trace: the file write is not under its tool call:\n{}",
            shown.join("\n")
        );
        assert!(
            below.iter().any(|l| l.contains("result ok")),
            "show --trace: no result under the tool call:\n{}",
            shown.join("\n")
        );
    }

    // The OTLP receiver got the same trees.
    drop(s);
    let spans = otlp_spans(receiver);
    for (trace, agent, tools) in [
        (&claude_trace, "claude-code", &claude_tools),
        (&codex_trace, "codex", &codex_tools),
    ] {
        let of_trace: Vec<&Value> = spans.iter().filter(|s| s["traceId"] == **trace).collect();
        let root = of_trace
            .iter()
            .find(|s| s["name"] == format!("invoke_agent {agent}"))
            .unwrap_or_else(|| panic!("OTLP: no invoke_agent {agent} span in trace {trace}"));
        assert!(root["parentSpanId"].as_str().unwrap_or("").is_empty());
        for (tool_span, exec_span, write_span) in tools {
            let find = |id: &str| {
                of_trace
                    .iter()
                    .find(|s| s["spanId"] == id)
                    .unwrap_or_else(|| panic!("OTLP: span {id} missing from trace {trace}"))
            };
            let tool = find(tool_span);
            assert!(tool["name"].as_str().unwrap().starts_with("execute_tool "));
            let chat = find(tool["parentSpanId"].as_str().unwrap());
            assert_eq!(
                chat["parentSpanId"], root["spanId"],
                "chat span not under invoke_agent"
            );
            assert_eq!(find(exec_span)["parentSpanId"], tool["spanId"]);
            assert_eq!(find(write_span)["parentSpanId"], tool["spanId"]);
        }
    }
}

/// The trace id of the one session of `agent` rooted at `pid`, after checking its start/end.
fn session_trace(evs: &[Value], agent: &str, pid: u64) -> String {
    let sessions: Vec<&Value> = evs
        .iter()
        .filter(|e| e["event_type"] == "agent.session" && e["data"]["agent"]["name"] == agent)
        .collect();
    let start = sessions
        .iter()
        .find(|e| e["data"]["action"] == "start")
        .unwrap_or_else(|| panic!("no agent.session start of {agent}: {sessions:#?}"));
    assert_eq!(
        start["process"]["pid"], pid,
        "{agent}'s session is not rooted at the agent"
    );
    assert_eq!(
        sessions
            .iter()
            .filter(|e| e["data"]["action"] == "start")
            .count(),
        1,
        "{agent}: more than one session"
    );
    let end = sessions
        .iter()
        .find(|e| e["data"]["action"] == "end")
        .unwrap_or_else(|| panic!("no agent.session end of {agent}"));
    assert_eq!(end["data"]["session_id"], start["data"]["session_id"]);
    assert!(
        end["data"]["stats"]["llm_calls"].as_u64().unwrap() >= 2,
        "{end}"
    );
    assert!(
        end["data"]["stats"]["files_written"].as_u64().unwrap() >= 1,
        "{end}"
    );
    start["trace_context"]["trace_id"]
        .as_str()
        .expect("session trace id")
        .to_string()
}

/// Checks the tool calls `tool` of `trace` against `episodes` (command, file it writes): each
/// tool call is a child of an AI call's span; the command's exec and the file's write are
/// children of that tool call's span and link to it (`caused_by`); the tool result closes the
/// span and names them. Returns (tool span, exec span, write span) per episode.
fn check_tree(
    evs: &[Value],
    trace: &str,
    tool: &str,
    episodes: &[(&String, &String)],
) -> Vec<(String, String, String)> {
    let of: Vec<&Value> = evs
        .iter()
        .filter(|e| e["trace_context"]["trace_id"] == trace)
        .collect();
    let span = |e: &Value| {
        e["trace_context"]["span_id"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let parent = |e: &Value| {
        e["trace_context"]["parent_span_id"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let chat_spans: HashMap<String, &Value> = of
        .iter()
        .filter(|e| e["event_type"] == "ai.request")
        .map(|e| (span(e), *e))
        .collect();
    let mut out = Vec::new();
    for (cmd, file) in episodes {
        let call = of
            .iter()
            .find(|e| {
                e["event_type"] == "agent.tool_call"
                    && e["data"]["tool"]["name"] == tool
                    && e["data"]["arguments"]
                        .to_string()
                        .contains(&cmd.replace('"', "\\\""))
            })
            .unwrap_or_else(|| panic!("trace {trace}: no {tool} call for {cmd}"));
        assert!(
            chat_spans.contains_key(&parent(call)),
            "tool call is not under an AI call: {call}"
        );
        let tool_span = span(call);
        let exec = of
            .iter()
            .find(|e| {
                e["event_type"] == "process.exec"
                    && e["data"]["args"].as_array().is_some_and(|a| {
                        a.iter()
                            .any(|x| x.as_str().is_some_and(|x| x.contains(cmd.as_str())))
                    })
            })
            .unwrap_or_else(|| panic!("trace {trace}: no exec of {cmd}"));
        assert_eq!(
            parent(exec),
            tool_span,
            "exec of {cmd} not under its tool call: {exec}"
        );
        let link = exec["related_events"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["relationship"] == "caused_by"))
            .unwrap_or_else(|| panic!("exec without caused_by: {exec}"));
        assert_eq!(link["event_id"], call["event_id"]);
        assert!(
            link["basis"].is_string() && link["confidence"].is_string(),
            "{link}"
        );
        let write = of
            .iter()
            .find(|e| e["event_type"] == "file.write" && e["data"]["path"] == file.as_str())
            .unwrap_or_else(|| panic!("trace {trace}: no file.write of {file}"));
        assert_eq!(
            parent(write),
            tool_span,
            "write of {file} not under its tool call: {write}"
        );
        let result = of
            .iter()
            .find(|e| e["event_type"] == "agent.tool_result" && span(e) == tool_span)
            .unwrap_or_else(|| panic!("trace {trace}: no tool result closing {cmd}"));
        let children: Vec<&Value> = result["related_events"]
            .as_array()
            .map(|r| r.iter().filter(|r| r["relationship"] == "child").collect())
            .unwrap_or_default();
        assert!(
            children.iter().any(|c| c["event_id"] == exec["event_id"]),
            "tool result does not name the exec: {result}"
        );
        out.push((tool_span, span(exec), span(write)));
    }
    out
}

fn show_trace(s: &Session, trace: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_oisp-sensor"))
        .args(["show", "--trace", trace, "-i"])
        .arg(s.tmp.join("events.jsonl"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("show --trace {trace}:\n{text}");
    text.lines().map(str::to_string).collect()
}

/// Depth of a tree line (characters before its first letter or digit).
fn indent(l: &str) -> usize {
    l.chars().take_while(|c| !c.is_alphanumeric()).count()
}

/// Every span the receiver got, with hex ids (as the protobuf JSON mapping gives base64).
fn otlp_spans(receiver: OtlpReceiver) -> Vec<Value> {
    let out = receiver.out.clone();
    drop(receiver);
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let mut spans = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for rs in v["request"]["resourceSpans"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for sp in ss["spans"].as_array().into_iter().flatten() {
                    let mut sp = sp.clone();
                    for k in ["traceId", "spanId", "parentSpanId"] {
                        if let Some(b) = sp[k].as_str() {
                            sp[k] = Value::String(b64_hex(b));
                        }
                    }
                    spans.push(sp);
                }
            }
        }
    }
    assert!(!spans.is_empty(), "the OTLP receiver got no spans");
    spans
}

fn b64_hex(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = String::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        let Some(v) = A.iter().position(|a| *a == c) else {
            return s.to_string();
        };
        bits = (bits << 6) | v as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push_str(&format!("{:02x}", (bits >> n) & 0xff));
        }
    }
    out
}

/// Puts the directory of `exe` first on PATH (which `record` and the agents inherit).
fn put_on_path(exe: &str) {
    let dir = std::path::Path::new(exe).parent().unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    if !std::env::split_paths(&path).any(|p| p == dir) {
        std::env::set_var("PATH", format!("{}:{path}", dir.display()));
    }
}

/// A script using the official OpenAI SDK, started before `record`: its exec was never seen, so
/// `record` reports it from /proc (a `snapshot` process.exec with its executable, arguments and
/// working directory), and its session is rooted at it.
#[test]
fn an_agent_started_before_record_keeps_its_exec() {
    if !root::root_or_skip("trace_e2e::snapshot") {
        return;
    }
    let go = std::env::temp_dir().join(format!("oisp-snapshot-go-{}", std::process::id()));
    let _ = std::fs::remove_file(&go);
    // Waits for the mock's URL and CA (written once `record` runs), then makes one call.
    let script = r#"
import os, sys, time, httpx, openai
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.05)
time.sleep(0.2)
base, ca = open(go).read().split()
c = openai.OpenAI(base_url=base + "/v1", api_key="sk-snapshot-test-0123456789",
                  http_client=httpx.Client(verify=ca))
r = c.chat.completions.create(model="gpt-4o-mini",
        messages=[{"role": "user", "content": "started before the sensor"}])
print(r.choices[0].message.content)
"#;
    let work = std::env::temp_dir().join(format!("oisp-snapshot-cwd-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let mut child = KillOnDrop(
        Command::new(e2e::mock_dir().join(".venv/bin/python"))
            .args(["-c", script])
            .arg(&go)
            .current_dir(&work)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the script"),
    );
    let pid = child.0.id();
    let Some(mut s) = Session::start("snapshot") else {
        return;
    };
    std::fs::write(&go, format!("{} {}", s.base(), s.ca.display())).unwrap();
    let status = child.0.wait().unwrap();
    let _ = std::fs::remove_file(&go);
    assert!(status.success(), "the script failed");
    let evs = s.stop();
    let exec = evs
        .iter()
        .find(|e| e["event_type"] == "process.exec" && e["process"]["pid"] == pid)
        .unwrap_or_else(|| {
            panic!("no process.exec of the script (pid {pid}) started before record")
        });
    assert_eq!(exec["attrs"]["snapshot"], true, "{exec}");
    assert_eq!(exec["source"]["capture_point"], "procfs_snapshot");
    assert!(
        exec["data"]["exe"].as_str().unwrap().contains("python"),
        "{exec}"
    );
    assert!(exec["data"]["args"]
        .to_string()
        .contains("started before the sensor"));
    assert_eq!(exec["data"]["cwd"], work.display().to_string());
    let start = evs
        .iter()
        .find(|e| e["event_type"] == "agent.session" && e["data"]["action"] == "start")
        .expect("a session for the script's call");
    assert_eq!(start["process"]["pid"], pid);
    assert_eq!(start["process"]["cwd"], work.display().to_string());
    // The session began when the script did (its start time, read from /proc).
    assert_eq!(start["ts"], exec["ts"]);
    let _ = std::fs::remove_dir_all(&work);
}
