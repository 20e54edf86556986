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
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model = \"gpt-5-codex\"\nmodel_provider = \"mock\"\n\n[model_providers.mock]\n\
             name = \"mock\"\nbase_url = \"{}/v1\"\nenv_key = \"MOCK_OPENAI_KEY\"\n\
             wire_api = \"responses\"\nsupports_websockets = false\n",
            m.base()
        ),
    )
    .unwrap();
    let out = work.join("codex-wrote.txt");
    let prompt = format!(
        "Run this for me. [[tool:exec_command {}]]",
        serde_json::json!({"cmd": format!("echo oisp-proxy-codex > {}", out.display())})
    );
    let ran = run_agent(
        &m,
        &work,
        &[
            ("CODEX_HOME", home.display().to_string()),
            ("MOCK_OPENAI_KEY", "sk-mock-codex-key-0123456789".into()),
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
