//! `oisp-sensor run` and `oisp-sensor proxy` against the mock provider, no root: curl over
//! HTTP/1.1 and HTTP/2 (streaming and not), plain http://, the official Python openai and
//! anthropic SDKs; an upstream with an untrusted certificate, a client that does not trust the
//! proxy's CA, `--intercept ai` tunnelling other hosts, `--ca-path`/`--print-env`, and the
//! long-running `proxy` command. Each call must be decoded exactly once, with its process.

mod e2e;
mod proxy_harness;
#[allow(unused)]
mod root;

use proxy_harness::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

fn chat_body(prompt: &str, stream: bool) -> String {
    let mut body = serde_json::json!({
        "model": "gpt-4o-mini",
        "stream": stream,
        "messages": [{"role": "user", "content": prompt}],
    });
    if stream {
        body["stream_options"] = serde_json::json!({"include_usage": true});
    }
    body.to_string()
}

/// A curl command line posting a chat completion to the mock.
fn curl(m: &Mock, version: &str, prompt: &str, stream: bool) -> String {
    format!(
        "curl -sS --fail {version} {}/v1/chat/completions -H 'Authorization: Bearer {KEY}' -H 'Content-Type: application/json' -d '{}'",
        m.base(),
        chat_body(prompt, stream)
    )
}

#[test]
fn curl_over_http1_and_http2_streaming_and_not_is_decoded_once_each() {
    let m = Mock::start("curl");
    let script = [
        curl(&m, "--http1.1", "curl h1 plain", false),
        curl(&m, "--http1.1", "curl h1 stream", true),
        curl(&m, "--http2", "curl h2 plain", false),
        curl(&m, "--http2", "curl h2 stream", true),
    ]
    .join(" && ");
    let ran = m.run(&["--intercept", "all"], &["sh", "-c", &script]);
    assert!(ran.out.status.success(), "{}", ran.stderr());
    assert!(ran.stdout().contains("data: "), "the streams reached curl");
    for (prompt, version) in [
        ("curl h1 plain", "HTTP/1.1"),
        ("curl h1 stream", "HTTP/1.1"),
        ("curl h2 plain", "HTTP/2"),
        ("curl h2 stream", "HTTP/2"),
    ] {
        let (req, resp) = expect_call(&ran, prompt, "gpt-4o-mini", "/curl");
        assert_eq!(req["attrs"]["http"]["version"], version, "{prompt}");
        assert_eq!(req["attrs"]["http"]["sni"], "localhost");
        if prompt.ends_with("stream") {
            // The mock sends its events 8 ms apart: they crossed the proxy one by one, not
            // buffered until the end.
            let arrivals: Vec<u64> = resp["attrs"]["stream"]["arrival_ms"]
                .as_array()
                .unwrap_or_else(|| panic!("stream arrivals: {resp}"))
                .iter()
                .filter_map(|v| v.as_u64())
                .collect();
            assert!(arrivals.len() >= 5, "{arrivals:?}");
            assert!(
                arrivals[arrivals.len() - 1] - arrivals[0] >= 40,
                "{arrivals:?}"
            );
        }
    }
    assert_eq!(ran.of("ai.request").len(), 4);
    assert_eq!(ran.of("ai.response").len(), 4);
    let err = ran.stderr();
    assert!(err.contains("sh exited with status 0"), "{err}");
    assert!(
        err.contains("total") && err.contains("gpt-4o-mini"),
        "summary: {err}"
    );
}

#[test]
fn plain_http_requests_are_forwarded_and_decoded() {
    let m = Mock::start("plain");
    let cmd = format!(
        "curl -sS --fail {}/v1/chat/completions -H 'Authorization: Bearer {KEY}' -H 'Content-Type: application/json' -d '{}'",
        m.plain_base(),
        chat_body("plain http call", false)
    );
    let ran = m.run(&[], &["sh", "-c", &cmd]);
    assert!(ran.out.status.success(), "{}", ran.stderr());
    let (req, _) = expect_call(&ran, "plain http call", "gpt-4o-mini", "/curl");
    assert_eq!(req["attrs"]["http"]["path"], "/v1/chat/completions");
}

const PY_SDKS: &str = r#"
import sys, openai, anthropic
base, key, akey = sys.argv[1:4]
c = openai.OpenAI(base_url=base + "/v1", api_key=key)
r = c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "py chat"}])
assert r.choices[0].message.content.startswith("This is a mock reply"), r
s = c.chat.completions.create(model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
                              messages=[{"role": "user", "content": "py stream"}])
assert "mock reply" in "".join((ch.choices[0].delta.content or "") for ch in s if ch.choices)
t = c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "py tool Paris"}],
    tools=[{"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}])
assert t.choices[0].message.tool_calls[0].function.name == "get_weather"
a = anthropic.Anthropic(base_url=base, api_key=akey)
msg = a.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "py claude"}])
assert "mock reply" in msg.content[0].text
with a.messages.stream(model="claude-sonnet-4-5", max_tokens=64,
                       messages=[{"role": "user", "content": "py claude stream"}]) as st:
    assert "mock reply" in "".join(st.text_stream)
print("sdk ok")
"#;

#[test]
fn python_openai_and_anthropic_sdks_are_decoded_once_each() {
    let m = Mock::start("pysdk");
    let ran = m.python(
        &["--intercept", "all"],
        "sdks.py",
        PY_SDKS,
        &[&m.base(), KEY, ANTHROPIC_KEY],
    );
    assert!(
        ran.out.status.success(),
        "{}\n{}",
        ran.stdout(),
        ran.stderr()
    );
    assert!(ran.stdout().contains("sdk ok"));
    let exe = "python3";
    for p in ["py chat", "py stream", "py tool Paris"] {
        let (req, _) = expect_call(&ran, p, "gpt-4o-mini", "");
        assert!(req["process"]["name"].as_str().unwrap().starts_with(exe));
        assert!(req["process"]["cmdline"]
            .as_str()
            .unwrap()
            .contains("sdks.py"));
    }
    let (_, tool) = expect_call(&ran, "py tool Paris", "gpt-4o-mini", "");
    assert_eq!(tool["data"]["tool_calls"][0]["name"], "get_weather");
    assert_eq!(ran.of("agent.tool_call").len(), 1);
    for p in ["py claude", "py claude stream"] {
        let (req, _) = expect_call(&ran, p, "claude-sonnet-4-5", "");
        assert_eq!(req["data"]["provider"]["name"], "anthropic");
    }
    assert_eq!(ran.of("ai.request").len(), 5);
    assert_eq!(ran.of("ai.response").len(), 5);
    assert!(
        ran.stderr().contains("tool calls: get_weather ×1"),
        "{}",
        ran.stderr()
    );
}

#[test]
fn an_upstream_with_an_untrusted_certificate_is_refused() {
    let m = Mock::start("badup");
    let events = m.tmp.join("events.jsonl");
    // No --upstream-ca: the mock's self-signed CA is not among the system roots.
    let out = sensor()
        .args(["run", "--no-store", "--intercept", "all", "-o"])
        .arg(&events)
        .arg("--ca-dir")
        .arg(m.proxy_ca_dir())
        .arg("--")
        .args(["sh", "-c", &curl(&m, "", "refused call", false)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "curl must fail");
    assert!(
        err.contains(&format!("upstream localhost:{} refused", m.port))
            && err.contains("invalid peer certificate"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
    let evs = read_events(&events);
    assert!(
        !evs.iter()
            .any(|e| e["event_type"].as_str().unwrap().starts_with("ai.")),
        "nothing decoded"
    );
}

#[test]
fn a_client_that_does_not_trust_the_proxy_ca_is_named_in_the_log() {
    let m = Mock::start("untrusting");
    // curl told to trust only the mock's CA, not the proxy's.
    let cmd = format!(
        "curl -sS --cacert {} {}/v1/models -H 'Authorization: Bearer {KEY}'",
        m.ca.display(),
        m.base()
    );
    let ran = m.run(&["--intercept", "all"], &["sh", "-c", &cmd]);
    assert!(!ran.out.status.success());
    let err = ran.stderr();
    assert!(
        err.contains("refused the proxy's certificate for localhost")
            && err.contains("does not trust the oisp-sensor CA")
            && err.contains("curl"),
        "{err}"
    );
    assert!(ran.of("ai.request").is_empty());
}

#[test]
fn ai_mode_tunnels_other_hosts_and_intercepts_configured_ones() {
    let m = Mock::start("aimode");
    // localhost is no provider domain: tunnelled, so curl sees the mock's own certificate.
    let cmd = format!(
        "curl -sS --fail --cacert {} {}/v1/chat/completions -H 'Authorization: Bearer {KEY}' -H 'Content-Type: application/json' -d '{}'",
        m.ca.display(),
        m.base(),
        chat_body("tunnelled call", false)
    );
    let ran = m.run(&[], &["sh", "-c", &cmd]);
    assert!(ran.out.status.success(), "{}", ran.stderr());
    assert!(ran.of("ai.request").is_empty(), "not intercepted");
    assert!(
        ran.of("network.connect")
            .iter()
            .any(|e| e["data"]["dest"]["port"] == m.port
                || e.to_string().contains(&m.port.to_string())),
        "the tunnel is reported as a connect: {:?}",
        ran.events
    );
    // Named with --domain: intercepted.
    let ran = m.run(
        &["--domain", "localhost"],
        &["sh", "-c", &curl(&m, "", "configured domain call", false)],
    );
    assert!(ran.out.status.success(), "{}", ran.stderr());
    expect_call(&ran, "configured domain call", "gpt-4o-mini", "/curl");
}

#[test]
fn run_returns_the_command_status_and_reports_a_missing_command() {
    let m = Mock::start("status");
    let ran = m.run(&[], &["sh", "-c", "exit 7"]);
    assert_eq!(ran.out.status.code(), Some(7));
    assert!(
        ran.stderr().contains("no AI calls captured"),
        "{}",
        ran.stderr()
    );
    let ran = m.run(&[], &["/nonexistent/command"]);
    assert_eq!(ran.out.status.code(), Some(127));
    assert!(ran.stderr().contains("cannot run /nonexistent/command"));
}

#[test]
fn proxy_prints_its_ca_path_and_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ca");
    let out = sensor()
        .args(["proxy", "--ca-path", "--ca-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let path = String::from_utf8(out.stdout).unwrap();
    assert_eq!(path.trim(), dir.join("ca.pem").to_str().unwrap());
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.join("ca-key.pem")), 0o600);
    assert_eq!(mode(&dir), 0o700);
    let out = sensor()
        .args([
            "proxy",
            "--print-env",
            "--listen",
            "127.0.0.1:9999",
            "--ca-dir",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let env = String::from_utf8(out.stdout).unwrap();
    assert!(
        env.contains("export HTTPS_PROXY='http://127.0.0.1:9999'"),
        "{env}"
    );
    assert!(env.contains(&format!(
        "export NODE_EXTRA_CA_CERTS='{}'",
        dir.join("ca.pem").display()
    )));
    assert!(env.contains(&format!(
        "export SSL_CERT_FILE='{}'",
        dir.join("bundle.pem").display()
    )));
}

#[test]
fn the_proxy_command_captures_until_sigterm() {
    let m = Mock::start("proxycmd");
    let events = m.tmp.join("proxy-events.jsonl");
    // `status` finds the proxy's state beside this file (record's, unused here).
    let state = m.tmp.join("run/state.json");
    let mut proxy = e2e::KillOnDrop(
        sensor()
            .env("OISP_STATE_FILE", &state)
            .args([
                "proxy",
                "--no-store",
                "--listen",
                "127.0.0.1:0",
                "--intercept",
                "all",
                "-o",
            ])
            .arg(&events)
            .arg("--ca-dir")
            .arg(m.proxy_ca_dir())
            .arg("--upstream-ca")
            .arg(&m.ca)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(proxy.0.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(curl(&m, "", "through proxy command", false))
        .env("HTTPS_PROXY", format!("http://{addr}"))
        .env("CURL_CA_BUNDLE", m.proxy_ca_dir().join("ca.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `status` shows the running proxy: its address, CA, counters (published once a second).
    let status_json = || {
        let out = sensor()
            .env("OISP_STATE_FILE", &state)
            .args(["status", "--json"])
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let shown = loop {
        let doc = status_json();
        if doc["proxy"]["counters"]["ai_calls"].as_u64() == Some(1) {
            break doc;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "status never showed the proxy's call: {doc}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(shown["proxy"]["pid"], proxy.0.id());
    assert_eq!(shown["proxy"]["command"], "proxy");
    assert!(shown["record"].is_null());
    let probe = &shown["proxy"]["probes"][0];
    assert!(probe["symbol"].as_str().unwrap().contains(&addr), "{probe}");
    assert!(
        probe["path"].as_str().unwrap().ends_with("ca.pem"),
        "{probe}"
    );
    let text = sensor()
        .env("OISP_STATE_FILE", &state)
        .arg("status")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(
        text.contains(&format!("Proxy: proxy pid {}", proxy.0.id())),
        "{text}"
    );
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(proxy.0.id() as i32, libc::SIGTERM) };
    let status = proxy.0.wait().unwrap();
    assert!(
        !state.with_file_name("proxy.json").exists(),
        "the state file goes when the proxy stops"
    );
    assert!(status_json()["proxy"].is_null());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(status.success(), "{rest}");
    assert!(rest.contains("1 AI calls"), "{rest}");
    let ran = Ran {
        out: std::process::Output {
            status,
            stdout: Vec::new(),
            stderr: rest.into_bytes(),
        },
        events: read_events(&events),
    };
    expect_call(&ran, "through proxy command", "gpt-4o-mini", "/curl");
}

const PY_REALTIME: &str = r#"
import sys, openai
c = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key=sys.argv[2])
with c.realtime.connect(model="gpt-realtime") as conn:
    conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
    conn.conversation.item.create(item={"type": "message", "role": "user",
        "content": [{"type": "input_text", "text": "ws through proxy"}]})
    conn.response.create()
    text = ""
    for ev in conn:
        if ev.type == "response.output_text.delta":
            text += ev.delta
        if ev.type == "response.done":
            break
assert "mock reply" in text, text
print("ws ok")
"#;

#[test]
fn websocket_upgrades_pass_through_and_their_frames_are_decoded() {
    let m = Mock::start("ws");
    let ran = m.python(
        &["--intercept", "all"],
        "realtime.py",
        PY_REALTIME,
        &[&m.base(), KEY],
    );
    assert!(
        ran.out.status.success(),
        "{}\n{}",
        ran.stdout(),
        ran.stderr()
    );
    assert!(ran.stdout().contains("ws ok"));
    let reqs = ran.of("ai.request");
    let resps = ran.of("ai.response");
    assert_eq!((reqs.len(), resps.len()), (1, 1), "{:?}", ran.events);
    assert!(resps[0]
        .to_string()
        .contains("mock reply to: \\\"ws through proxy"));
    assert_eq!(resps[0]["source"]["capture_method"], "mitm_proxy");
}

/// The npm openai SDK on the machine's Node: its transport, Node's `fetch`, honours HTTPS_PROXY
/// only from Node 24 (and 22.21) with NODE_USE_ENV_PROXY=1, which `run` sets; on older Node
/// `run`'s preload (NODE_OPTIONS=--require) routes it through the proxy. Captured either way.
#[test]
fn node_openai_sdk_goes_through_the_proxy() {
    let m = Mock::start("node");
    let version = std::process::Command::new("node")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    eprintln!("node {version}");
    // Run in the mock's directory: the SDK resolves from its node_modules.
    let code = format!(
        "import OpenAI from 'openai';\nconst c = new OpenAI({{apiKey: '{KEY}', baseURL: '{}/v1'}});\nconst r = await c.chat.completions.create({{model: 'gpt-4o-mini', messages: [{{role: 'user', content: 'node through proxy'}}]}});\nconsole.log(r.choices[0].message.content);\n",
        m.base()
    );
    let ran = m.run_in(
        &e2e::mock_dir(),
        &["--intercept", "all"],
        &["node", "--input-type=module", "-e", &code],
    );
    assert!(ran.out.status.success(), "{}", ran.stderr());
    expect_call(&ran, "node through proxy", "gpt-4o-mini", "node");
}

/// Every JSON path of `v` (object keys joined by `.`, array elements as `[]`), values aside.
fn paths(v: &serde_json::Value, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(p.clone());
                paths(x, &p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// The last user message of an `ai.request` (how a call is matched across captures).
fn last_user_text(req: &serde_json::Value) -> String {
    req["data"]["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .rfind(|m| m["role"] == "user")
        .map(|m| m["content"].to_string())
        .unwrap_or_default()
}

/// Same fields as under eBPF: the real-client scenarios the decoder fixtures were recorded from
/// (eBPF, `fixtures/captures/*.oraw`) run again through `run --`; each call's `ai.request` and
/// `ai.response` have every JSON path of the golden events of the same call, and nothing more
/// but the client's lineage (`process.parent`, `process.ancestors`: the fixtures' captures hold
/// only the client's own exec, the proxy reads the parents from /proc).
#[test]
fn proxy_events_have_the_fields_of_ebpf_events() {
    let m = Mock::start("fields");
    let clients = e2e::mock_dir().join("../mock-provider/clients");
    let py = e2e::mock_dir().join(".venv/bin/python3");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cases: [(&str, Vec<&str>, &str); 3] = [
        (
            "openai-python",
            vec![
                py.to_str().unwrap(),
                "py_openai.py",
                "chat_nonstream",
                "chat_stream_include_usage",
                "tools_stream_parallel",
                "responses_stream",
            ],
            "openai-python.jsonl",
        ),
        (
            "anthropic-python",
            vec![
                py.to_str().unwrap(),
                "py_anthropic.py",
                "messages_nonstream",
                "messages_stream",
                "tool_use_stream",
            ],
            "anthropic-python.jsonl",
        ),
        (
            "openai-node",
            vec!["node", "node_openai.mjs", "chat_nonstream", "chat_stream"],
            "openai-node.jsonl",
        ),
    ];
    let mut report = String::new();
    for (name, cmd, golden) in cases {
        let golden: Vec<serde_json::Value> =
            read_events(&root.join("fixtures/golden").join(golden));
        let ran = m.run_with(
            &clients,
            &[
                ("MOCK_HTTPS_PORT", m.port.to_string()),
                ("MOCK_HTTP_PORT", m.plain_port.to_string()),
            ],
            &["--intercept", "all"],
            &cmd,
        );
        assert!(ran.out.status.success(), "{name}: {}", ran.stderr());
        let reqs = ran.of("ai.request");
        assert_eq!(
            reqs.len(),
            cmd.len() - 2,
            "{name}: one request per scenario"
        );
        for req in reqs {
            let text = last_user_text(req);
            let g_req = golden
                .iter()
                .find(|g| g["event_type"] == "ai.request" && last_user_text(g) == text)
                .unwrap_or_else(|| panic!("{name}: no golden request for {text}"));
            let resp_of = |evs: &[serde_json::Value], r: &serde_json::Value| {
                evs.iter()
                    .find(|e| {
                        e["event_type"] == "ai.response"
                            && e["data"]["request_id"] == r["data"]["request_id"]
                    })
                    .cloned()
                    .unwrap_or_else(|| panic!("{name}: no response to {text}"))
            };
            let resp = resp_of(&ran.events, req);
            let g_resp = resp_of(&golden, g_req);
            // The same decoded values where the mock answers the same way.
            for (ours, theirs, keys) in [
                (
                    req,
                    g_req,
                    &[
                        "model",
                        "streaming",
                        "messages_count",
                        "tools_count",
                        "request_type",
                    ][..],
                ),
                (
                    &resp,
                    &g_resp,
                    &[
                        "usage",
                        "finish_reason",
                        "tool_calls_count",
                        "status_code",
                        "success",
                    ][..],
                ),
            ] {
                for k in keys {
                    assert_eq!(
                        ours["data"][k], theirs["data"][k],
                        "{name} {text}: data.{k}"
                    );
                }
            }
            for (kind, ours, theirs) in [("request", req, g_req), ("response", &resp, &g_resp)] {
                let (mut a, mut b) = (Default::default(), Default::default());
                paths(ours, "", &mut a);
                paths(theirs, "", &mut b);
                let only_proxy: Vec<_> = a
                    .difference(&b)
                    .filter(|p| {
                        !p.starts_with("process.parent") && !p.starts_with("process.ancestors")
                    })
                    .collect();
                let only_ebpf: Vec<_> = b.difference(&a).collect();
                if !only_proxy.is_empty() || !only_ebpf.is_empty() {
                    report.push_str(&format!(
                        "{name} {kind} {text}:\n  only proxy: {only_proxy:?}\n  only eBPF: {only_ebpf:?}\n"
                    ));
                }
            }
        }
    }
    assert!(report.is_empty(), "{report}");
}
