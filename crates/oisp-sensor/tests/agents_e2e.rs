//! Real AI agents, run headless against the mock provider, as root, under `oisp-sensor record`:
//! the capture must show each agent's episode whole — the request with its system prompt and tool
//! list, the response with the tool call, the command the agent ran (a child of the agent), the
//! file that command wrote, and the next request carrying the tool's result.
//!
//! The agents are fetched at pinned versions by `tools/agents/fetch.sh` (`scripts/test.sh` runs
//! it and exports where they are). The mock answers a scripted prompt
//! (`[[tool:NAME {args}]]`, tools/mock-provider/providers.py) with exactly that tool call, then
//! answers the tool's result with text, so the agent stops after one step.

mod e2e;
mod root;

use e2e::*;
use serde_json::Value;
use std::process::Command;

/// Claude Code: a Bun executable with BoringSSL linked in and stripped — located by structure.
#[test]
fn claude_code_runs_a_command_that_writes_a_file() {
    let Ok(claude) = std::env::var("OISP_CLAUDE_BIN") else {
        eprintln!(
            "skipped: OISP_CLAUDE_BIN is not set (tools/agents/fetch.sh fetches Claude Code; \
             scripts/test.sh sets it)"
        );
        return;
    };
    // On PATH before `record` starts, as `claude` is for a user: probed at start, before its
    // first connection.
    put_on_path(&claude);
    let Some(mut s) = Session::start("claude_code") else {
        return;
    };
    let out = s.tmp.join("claude-wrote.txt");
    let command = format!("echo oisp-agent-check | tee {}", out.display());
    let prompt = format!(
        "Run this for me. [[tool:Bash {}]]",
        serde_json::json!({"command": command, "description": "write a file"})
    );
    let timeout_pid = s.claude_p(&prompt);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap_or_default().trim(),
        "oisp-agent-check",
        "claude did not run the command"
    );
    let status = s.status();
    let evs = s.stop();
    let claude_pid = evs
        .iter()
        .find(|e| e["event_type"] == "process.exec" && e["process"]["ppid"] == timeout_pid)
        .and_then(|e| e["process"]["pid"].as_u64())
        .unwrap_or_else(|| panic!("no process.exec of claude (child of pid {timeout_pid})"));
    covered(
        &status,
        claude_pid,
        "BoringSSL linked in, located BoringSSL, by structure",
    );
    check_episode(
        &evs,
        (claude_pid, "claude-code"),
        ("Bash", "command"),
        &command,
        &out.display().to_string(),
    );
}

/// Gemini CLI: a Node program (OpenSSL linked into node). First a non-streaming router call
/// (structured JSON), then streamGenerateContent with the tools.
#[test]
fn gemini_cli_runs_a_command_that_writes_a_file() {
    let Ok(gemini) = std::env::var("OISP_GEMINI_BIN") else {
        eprintln!(
            "skipped: OISP_GEMINI_BIN is not set (tools/agents/fetch.sh fetches Gemini CLI; \
             scripts/test.sh sets it)"
        );
        return;
    };
    let Some(mut s) = Session::start("gemini_cli") else {
        return;
    };
    let out = s.tmp.join("gemini-wrote.txt");
    let command = format!("echo oisp-agent-check | tee {}", out.display());
    let prompt = format!(
        "Run this for me. [[tool:run_shell_command {}]]",
        serde_json::json!({"command": command, "description": "write a file"})
    );
    let home = s.tmp.join("home");
    let work = s.tmp.join("work");
    std::fs::create_dir_all(home.join(".gemini")).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        home.join(".gemini/settings.json"),
        r#"{"security":{"auth":{"selectedType":"gemini-api-key"}}}"#,
    )
    .unwrap();
    let mut cmd = Command::new("timeout");
    cmd.current_dir(&work)
        .args(["120", &gemini, "-p", &prompt, "--yolo"])
        .env("GOOGLE_GEMINI_BASE_URL", s.base())
        .env("GEMINI_API_KEY", GEMINI_KEY)
        .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
        .env("HOME", &home);
    let timeout_pid = s.client("gemini -p", cmd);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap_or_default().trim(),
        "oisp-agent-check",
        "gemini did not run the command"
    );
    let status = s.status();
    let evs = s.stop();
    let agent = evs
        .iter()
        .find(|e| e["event_type"] == "process.exec" && e["process"]["ppid"] == timeout_pid)
        .and_then(|e| e["process"]["pid"].as_u64())
        .unwrap_or_else(|| panic!("no process.exec of gemini (child of pid {timeout_pid})"));
    // Gemini CLI's calls come from node processes below the `timeout` (it relaunches itself).
    assert!(
        status.lines().any(|l| l.contains("via OpenSSL linked in")
            && l.contains("located by symbol: full content")),
        "status shows no Node process covered with full content:\n{status}"
    );
    check_episode(
        &evs,
        (agent, "gemini-cli"),
        ("run_shell_command", "command"),
        &command,
        &out.display().to_string(),
    );
}

/// Codex: a stripped static-pie Rust executable whose API traffic goes through rustls on AWS-LC
/// (its OpenSSL is not used for it) — found by the structure of AWS-LC's AEAD code. Its shell
/// tool is `exec_command` (argument `cmd`), run as `/bin/bash -lc CMD` by a helper it forks.
#[test]
fn codex_runs_a_command_that_writes_a_file() {
    let Ok(codex) = std::env::var("OISP_CODEX_BIN") else {
        eprintln!(
            "skipped: OISP_CODEX_BIN is not set (tools/agents/fetch.sh fetches Codex; \
             scripts/test.sh sets it)"
        );
        return;
    };
    // On PATH before `record` starts, as `codex` is for a user: probed at start.
    put_on_path(&codex);
    let Some(mut s) = Session::start("codex") else {
        return;
    };
    let out = s.tmp.join("codex-wrote.txt");
    let command = format!("echo oisp-agent-check | tee {}", out.display());
    let prompt = format!(
        "Run this for me. [[tool:exec_command {}]]",
        serde_json::json!({ "cmd": command })
    );
    let work = s.tmp.join("work");
    let timeout_pid = s.codex_exec(&prompt, &work, false);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap_or_default().trim(),
        "oisp-agent-check",
        "codex did not run the command"
    );
    let status = s.status();
    let evs = s.stop();
    let agent = evs
        .iter()
        .find(|e| e["event_type"] == "process.exec" && e["process"]["ppid"] == timeout_pid)
        .and_then(|e| e["process"]["pid"].as_u64())
        .unwrap_or_else(|| panic!("no process.exec of codex (child of pid {timeout_pid})"));
    covered(
        &status,
        agent,
        "rustls on AWS-LC, linked in, located rustls on AWS-LC, by structure",
    );
    check_episode(
        &evs,
        (agent, "codex"),
        ("exec_command", "cmd"),
        &command,
        &out.display().to_string(),
    );
}

/// `status` lists process `pid` as read with full content, through `how` (the stack and how it
/// was located).
fn covered(status: &str, pid: u64, how: &str) {
    assert!(
        status.lines().any(|l| l.contains(&format!("pid {pid} "))
            && l.contains(&format!("via {how}"))
            && l.ends_with("full content")),
        "status does not show pid {pid} covered via {how}:\n{status}"
    );
}

/// Puts the directory of `exe` first on this process's PATH (which `record` and the agents
/// inherit), once, whatever other tests do to PATH at the same time.
fn put_on_path(exe: &str) {
    static PATH_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _held = PATH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::path::Path::new(exe).parent().unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    if !std::env::split_paths(&path).any(|p| p == dir) {
        std::env::set_var("PATH", format!("{}:{path}", dir.display()));
    }
}

/// A Gemini API key of the right shape (`AIza` + 35 characters).
const GEMINI_KEY: &str = "AIzaSyTESTKEY0123456789abcdefghijklmn";

/// The episode of the agent `pid` (its AI calls may come from a process it started, as Gemini
/// CLI relaunches itself): see the module docs. `tool` is the shell tool's name and the argument
/// that holds the command.
fn check_episode(
    evs: &[Value],
    (pid, agent): (u64, &str),
    tool: (&str, &str),
    command: &str,
    file: &str,
) {
    let (tool, arg) = tool;
    let of = |t: &str| -> Vec<&Value> {
        evs.iter()
            .filter(|e| e["event_type"] == t && in_tree(e, pid))
            .collect()
    };
    let requests = of("ai.request");
    let with_tools: Vec<&&Value> = requests
        .iter()
        .filter(|e| {
            e["data"]["tools"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t.to_string().contains(tool)))
        })
        .collect();
    let first = with_tools.first().unwrap_or_else(|| {
        panic!("no ai.request of pid {pid} with the {tool} tool: {requests:#?}")
    });
    let messages = first["data"]["messages"].to_string();
    assert!(
        messages.contains("oisp-agent-check"),
        "prompt missing: {messages}"
    );
    let system = first["data"]["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["role"] == "system")
                .map(|m| m.to_string().len())
                .sum::<usize>()
        })
        .unwrap_or(0);
    assert!(
        system > 1000,
        "system prompt missing or cut ({system} bytes)"
    );
    let call = of("agent.tool_call")
        .into_iter()
        .find(|e| e["data"]["tool"]["name"] == tool)
        .unwrap_or_else(|| panic!("no agent.tool_call {tool} by pid {pid}"));
    assert_eq!(call["data"]["arguments"][arg], command);
    // The next request carries the command's output back; linked by the call's id where the API
    // gives one (Gemini's function calls have none: the CLI makes up its own).
    let call_id = call["data"]["call_id"].clone();
    assert!(
        of("agent.tool_result").iter().any(|e| {
            e["data"].to_string().contains("oisp-agent-check")
                && (call_id.is_null() || e["data"]["call_id"] == call_id)
        }),
        "no agent.tool_result with the command's output (call {call_id})"
    );
    // The shell the agent started (or the `tee` under it): below the agent, not the agent's own
    // exec (whose arguments hold the prompt).
    let exec = evs
        .iter()
        .find(|e| {
            e["event_type"] == "process.exec"
                && e["process"]["pid"] != pid
                && e["process"]["cmdline"]
                    .as_str()
                    .is_some_and(|c| c.contains("tee") && !c.contains("[[tool"))
        })
        .unwrap_or_else(|| panic!("no process.exec of the command"));
    assert!(
        in_tree(exec, pid),
        "the command's parent chain does not reach the agent {pid}: {}",
        exec["process"]
    );
    assert!(
        evs.iter()
            .any(|e| e["event_type"] == "file.write" && e.to_string().contains(file)),
        "no file.write of {file}"
    );
    // One agent session, named after the agent and rooted at it; the command is linked to the
    // tool call (docs/traces.md).
    let session = evs
        .iter()
        .find(|e| e["event_type"] == "agent.session" && e["data"]["action"] == "start")
        .unwrap_or_else(|| panic!("no agent.session"));
    assert_eq!(session["process"]["pid"], pid, "session root: {session}");
    assert_eq!(session["data"]["agent"]["name"], agent, "{session}");
    let link = exec["related_events"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["relationship"] == "caused_by"))
        .unwrap_or_else(|| panic!("the command is not linked to a tool call: {exec}"));
    assert_eq!(link["event_id"], call["event_id"], "{exec}");
}
