//! Claude Code, Codex and Gemini CLI through `oisp-sensor run --` (no root): each asked by the mock
//! provider (`[[tool:NAME {args}]]`) to run a shell command that writes a file; the proxy must
//! decode both AI calls of the episode, the tool call and its result, with the agent's process.
//! The agents come from `tools/agents/fetch.sh` (`OISP_CLAUDE_BIN`, `OISP_CODEX_BIN`,
//! `OISP_GEMINI_BIN`); a test
//! whose agent is not set says so and passes.

mod e2e;
mod proxy_harness;
#[allow(unused)]
mod root;

use proxy_harness::*;

/// Runs `cmd` (an agent) in `work` through `oisp-sensor run` with the mock's CA upstream.
fn run_agent(m: &Mock, work: &std::path::Path, envs: &[(&str, String)], cmd: &[&str]) -> Ran {
    let events = m.tmp.join("agent-events.jsonl");
    let mut c = sensor();
    c.arg("run")
        .args(["--no-store", "--intercept", "all", "-o"])
        .arg(&events)
        .arg("--ca-dir")
        .arg(m.proxy_ca_dir())
        .arg("--upstream-ca")
        .arg(&m.ca)
        .arg("--")
        .arg("timeout")
        .arg("120")
        .args(cmd)
        .current_dir(work);
    for (k, v) in envs {
        c.env(k, v);
    }
    let out = c.output().expect("run oisp-sensor run");
    Ran {
        out,
        events: read_events(&events),
    }
}

/// The agent ran the command (`wrote` holds `text`) and its episode was decoded: `calls` AI
/// calls, one tool call of `tool` and its result, all by a process named `process`.
fn check_episode(
    ran: &Ran,
    (process, calls): (&str, usize),
    tool: &str,
    wrote: &std::path::Path,
    text: &str,
) {
    assert!(ran.out.status.success(), "{}", ran.stderr());
    assert_eq!(
        std::fs::read_to_string(wrote).unwrap_or_default().trim(),
        text,
        "the agent did not run the command: {}",
        ran.stderr()
    );
    let by_agent = |t: &str| -> Vec<&serde_json::Value> {
        ran.of(t)
            .into_iter()
            .filter(|e| e["process"]["name"] == process)
            .collect()
    };
    assert_eq!(by_agent("ai.request").len(), calls, "{}", ran.stderr());
    assert_eq!(by_agent("ai.response").len(), calls);
    let tool_calls = by_agent("agent.tool_call");
    assert_eq!(tool_calls.len(), 1);
    assert_eq!(tool_calls[0]["data"]["tool"]["name"], tool);
    assert_eq!(by_agent("agent.tool_result").len(), 1);
    for e in by_agent("ai.request") {
        assert_eq!(e["source"]["capture_method"], "mitm_proxy");
    }
    assert!(
        ran.stderr().contains(&format!("tool calls: {tool} ×1")),
        "{}",
        ran.stderr()
    );
}

#[test]
fn claude_code_through_run() {
    let Ok(claude) = std::env::var("OISP_CLAUDE_BIN") else {
        eprintln!(
            "skipped: OISP_CLAUDE_BIN is not set (tools/agents/fetch.sh fetches Claude Code)"
        );
        return;
    };
    let m = Mock::start("claude");
    let work = m.tmp.join("work");
    let home = m.tmp.join("home");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let out = work.join("claude-wrote.txt");
    let command = format!("echo oisp-proxy-claude | tee {}", out.display());
    let prompt = format!(
        "Run this for me. [[tool:Bash {}]]",
        serde_json::json!({"command": command, "description": "write a file"})
    );
    let ran = run_agent(
        &m,
        &work,
        &[
            ("ANTHROPIC_BASE_URL", m.base()),
            ("ANTHROPIC_API_KEY", ANTHROPIC_KEY.into()),
            ("IS_SANDBOX", "1".into()),
            ("HOME", home.display().to_string()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            ("DISABLE_TELEMETRY", "1".into()),
        ],
        &[&claude, "-p", &prompt, "--dangerously-skip-permissions"],
    );
    check_episode(&ran, ("claude", 2), "Bash", &out, "oisp-proxy-claude");
}

#[test]
fn codex_through_run() {
    let Ok(codex) = std::env::var("OISP_CODEX_BIN") else {
        eprintln!("skipped: OISP_CODEX_BIN is not set (tools/agents/fetch.sh fetches Codex)");
        return;
    };
    let m = Mock::start("codex");
    let work = m.tmp.join("work");
    let home = m.tmp.join("codex-home");
    std::fs::create_dir_all(&work).unwrap();
    write_codex_home(&m, &home);
    let out = work.join("codex-wrote.txt");
    let prompt = codex_prompt(&out);
    let ran = run_agent(
        &m,
        &work,
        &[
            ("CODEX_HOME", home.display().to_string()),
            ("MOCK_OPENAI_KEY", CODEX_KEY.into()),
        ],
        &[
            &codex,
            "exec",
            "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox",
            &prompt,
        ],
    );
    check_episode(&ran, ("codex", 2), "exec_command", &out, "oisp-proxy-codex");
}

/// The key Codex sends the mock (`env_key` of its provider).
const CODEX_KEY: &str = "sk-mock-codex-key-0123456789";

/// A `CODEX_HOME` in `home` whose provider is the mock (Responses API, no WebSocket).
fn write_codex_home(m: &Mock, home: &std::path::Path) {
    std::fs::create_dir_all(home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        e2e::codex_config(&m.base(), false),
    )
    .unwrap();
}

/// A prompt that makes the mock ask Codex to write `oisp-proxy-codex` into `out`.
fn codex_prompt(out: &std::path::Path) -> String {
    format!(
        "Run this for me. [[tool:exec_command {}]]",
        serde_json::json!({"cmd": format!("echo oisp-proxy-codex > {}", out.display())})
    )
}

/// The issue's measure: `oisp-sensor run -- codex exec …` by an unprivileged user (nobody, when
/// the test runs as root; else the test's own user), into that user's store, then `show` and
/// `show --trace` by the same user display the episode — the prompt, both calls, the tool call
/// with the command Codex ran, its result. The binaries are copied beside the user's files, so
/// the checkout's location does not matter.
#[test]
fn codex_through_run_without_root_shows_in_show() {
    let Ok(codex) = std::env::var("OISP_CODEX_BIN") else {
        eprintln!("skipped: OISP_CODEX_BIN is not set (tools/agents/fetch.sh fetches Codex)");
        return;
    };
    let m = Mock::start("codex-user");
    let dir = m.tmp.join("user");
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    write_codex_home(&m, &dir.join("codex-home"));
    std::fs::copy(&codex, dir.join("codex")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_oisp-sensor"), dir.join("oisp-sensor")).unwrap();
    std::fs::copy(&m.ca, dir.join("mock-ca.pem")).unwrap();
    let as_root = root::is_root();
    if as_root {
        // nobody:nogroup owns the user's tree; the scratch directory above it must be passable.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&m.tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ok = std::process::Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(ok.success());
    }
    // A command as that user, with a clean environment of its own.
    let user = |program: &str| {
        let mut c = if as_root {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(program);
            c
        } else {
            std::process::Command::new(program)
        };
        c.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &dir)
            .env("OISP_CONFIG", "")
            .current_dir(&work);
        c
    };
    let sensor = dir.join("oisp-sensor").display().to_string();
    let store = dir.join("events.db");
    let out = work.join("codex-wrote.txt");
    let ran = user(&sensor)
        .arg("run")
        .arg("--store")
        .arg(&store)
        .args(["--intercept", "all", "--upstream-ca"])
        .arg(dir.join("mock-ca.pem"))
        .arg("--")
        .arg(dir.join("codex"))
        .args([
            "exec",
            "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox",
        ])
        .arg(codex_prompt(&out))
        .env("CODEX_HOME", dir.join("codex-home"))
        .env("MOCK_OPENAI_KEY", CODEX_KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&ran.stderr).to_string();
    assert!(ran.status.success(), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap_or_default().trim(),
        "oisp-proxy-codex",
        "Codex did not run the command: {stderr}"
    );
    assert!(stderr.contains("tool calls: exec_command ×1"), "{stderr}");
    let show = |args: &[&str]| {
        let o = user(&sensor)
            .arg("show")
            .arg("-i")
            .arg(&store)
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let timeline = show(&[]);
    let trace = show(&["--trace"]);
    for (what, text) in [("show", &timeline), ("show --trace", &trace)] {
        for needle in ["Run this for me.", "exec_command", "echo oisp-proxy-codex"] {
            assert!(text.contains(needle), "{what} lacks {needle:?}:\n{text}");
        }
    }
    let calls = timeline.matches("gpt-5-codex stream").count();
    assert_eq!(calls, 2, "both of Codex's calls in show:\n{timeline}");
    assert!(
        timeline.contains("agent.tool_result exec_command"),
        "{timeline}"
    );
    // The copies of both binaries are large: not left behind.
    let _ = std::fs::remove_dir_all(&dir);
}

/// Gemini CLI (Node): it sets its own proxy-aware dispatcher from HTTPS_PROXY, so it goes
/// through the proxy even on Node versions whose `fetch` ignores the variable. A non-streaming
/// router call, then two streamed calls around the tool.
#[test]
fn gemini_cli_through_run() {
    let Ok(gemini) = std::env::var("OISP_GEMINI_BIN") else {
        eprintln!("skipped: OISP_GEMINI_BIN is not set (tools/agents/fetch.sh fetches Gemini CLI)");
        return;
    };
    let m = Mock::start("gemini");
    let work = m.tmp.join("work");
    let home = m.tmp.join("home");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(home.join(".gemini")).unwrap();
    std::fs::write(
        home.join(".gemini/settings.json"),
        r#"{"security":{"auth":{"selectedType":"gemini-api-key"}}}"#,
    )
    .unwrap();
    let out = work.join("gemini-wrote.txt");
    let command = format!("echo oisp-proxy-gemini | tee {}", out.display());
    let prompt = format!(
        "Run this for me. [[tool:run_shell_command {}]]",
        serde_json::json!({"command": command, "description": "write a file"})
    );
    let ran = run_agent(
        &m,
        &work,
        &[
            ("GOOGLE_GEMINI_BASE_URL", m.base()),
            (
                "GEMINI_API_KEY",
                "AIzaSyTESTKEY0123456789abcdefghijklmnopPRX".into(),
            ),
            ("GEMINI_CLI_TRUST_WORKSPACE", "true".into()),
            ("HOME", home.display().to_string()),
        ],
        &[&gemini, "-p", &prompt, "--yolo"],
    );
    check_episode(
        &ran,
        ("node", 3),
        "run_shell_command",
        &out,
        "oisp-proxy-gemini",
    );
}
