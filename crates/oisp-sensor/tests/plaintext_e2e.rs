//! End to end, as root: AI calls over plaintext HTTP — a local model server's API reached without
//! TLS (Ollama's `/api/chat` NDJSON, an OpenAI-compatible `/v1/chat/completions` on any port) —
//! read at the socket syscalls by `record` and decoded like TLS traffic. Real clients: the
//! official `ollama` Python package, the `openai` Python SDK with an http:// base URL, curl, and an
//! Ollama-style agent script (the model asks for a shell command, the script runs it — an exec
//! below it that writes a file — and sends the output back: the whole episode must show). A
//! connection that carries something other than HTTP is not decoded and raises no warning. And a
//! TLS client no hooked stack reads is still seen from its ClientHello (metadata only).
//!
//! Needs root and BPF. When not root the tests fail, unless OISP_SKIP_ROOT_TESTS=1 says to skip.

mod e2e;
mod root;

use e2e::*;
use serde_json::Value;
use std::process::Command;

fn ollama_expect<'a>(prompt: &'a str, stream: bool) -> Expect<'a> {
    Expect {
        client: "ollama",
        exe: "python",
        cmdline: "ollama",
        model: "llama3.2",
        prompt: Some(prompt),
        reply: Some("This is a mock reply"),
        stream,
        path: "/api/chat",
    }
}

#[test]
fn ollama_openai_and_curl_over_plain_http() {
    let Some(mut s) = Session::start("plaintext_http") else {
        return;
    };
    let ollama = s.python(
        "ollama",
        "import os, ollama\n\
         c = ollama.Client(host=os.environ['MOCK_PLAIN_BASE'])\n\
         r = c.chat(model='llama3.2', messages=[{'role':'user','content':'Plain ollama one'}])\n\
         assert 'mock reply' in r.message.content, r\n",
    );
    let ollama_streamed = s.python(
        "ollama streamed",
        "import os, ollama\n\
         c = ollama.Client(host=os.environ['MOCK_PLAIN_BASE'])\n\
         parts = [p.message.content for p in c.chat(model='llama3.2', stream=True,\n\
                  messages=[{'role':'user','content':'Plain ollama streamed'}])]\n\
         assert len(parts) > 1, parts\n",
    );
    let openai = s.python(
        "openai over http",
        "import os, openai\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_PLAIN_BASE'] + '/v1')\n\
         r = c.chat.completions.create(model='gpt-4o-mini', messages=[{'role':'user','content':'Plain openai'}])\n\
         assert 'mock reply' in r.choices[0].message.content\n",
    );
    let prompt = "Plain curl streamed";
    let body = format!(
        r#"{{"model":"gpt-4o-mini","stream":true,"stream_options":{{"include_usage":true}},"messages":[{{"role":"user","content":"{prompt}"}}]}}"#
    );
    let mut c = Command::new("curl");
    c.args(["-sS", "-o", "/dev/null"])
        .args(["-H", &format!("Authorization: Bearer {KEY}")])
        .args(["-H", "content-type: application/json", "-d", &body])
        .arg(format!("{}/v1/chat/completions", s.plain_base()));
    let curl = s.client("curl", c);
    // Not HTTP: a client that speaks its own protocol to the same port.
    let other = s.python(
        "not http",
        "import os, socket, urllib.parse\n\
         u = urllib.parse.urlparse(os.environ['MOCK_PLAIN_BASE'])\n\
         k = socket.create_connection((u.hostname, u.port))\n\
         k.sendall(b'\\x00\\x01HELLO not http\\r\\n\\r\\n')\n\
         k.settimeout(2)\n\
         try:\n    k.recv(100)\n\
         except Exception:\n    pass\n\
         k.close()\n",
    );
    // An Ollama-style agent: the model asks for a shell command, the script runs it (it writes a
    // file) and sends the output back.
    let out = s.tmp.join("plain-agent.txt");
    let command = format!("echo oisp-plain-check | tee {}", out.display());
    let agent_code = format!(
        "import os, json, subprocess, ollama\n\
         c = ollama.Client(host=os.environ['MOCK_PLAIN_BASE'])\n\
         tools = [{{'type':'function','function':{{'name':'run_shell','description':'Run a shell command',\n\
                   'parameters':{{'type':'object','properties':{{'command':{{'type':'string'}}}},'required':['command']}}}}}}]\n\
         msgs = [{{'role':'user','content':'Please run it. [[tool:run_shell {{\"command\": \"{command}\"}}]]'}}]\n\
         r = c.chat(model='llama3.2', messages=msgs, tools=tools)\n\
         call = r.message.tool_calls[0]\n\
         out = subprocess.run(['/bin/sh', '-c', call.function.arguments['command']], capture_output=True, text=True).stdout\n\
         msgs += [r.message, {{'role':'tool','content':out,'tool_name':'run_shell'}}]\n\
         r2 = c.chat(model='llama3.2', messages=msgs, tools=tools)\n\
         assert 'oisp-plain-check' in r2.message.content, r2\n"
    );
    let agent = s.python("ollama agent", &agent_code);
    let status = s.status();
    let evs = s.stop();
    check_tool_episode(&evs, agent, &command, &out.to_string_lossy());

    for (pid, prompt, stream) in [
        (ollama, "Plain ollama one", false),
        (ollama_streamed, "Plain ollama streamed", true),
    ] {
        for r in s.check_calls(&evs, pid, 1, &ollama_expect(prompt, stream)) {
            assert_eq!(r["data"]["provider"]["name"], "ollama", "{r}");
        }
    }
    let mut x = chat_expect("openai", "python", "Plain openai", false);
    x.cmdline = "openai";
    s.check_calls(&evs, openai, 1, &x);
    s.check_calls(&evs, curl, 1, &chat_expect("curl", "curl", prompt, true));

    // The non-HTTP connection: its connect is reported, nothing is decoded, nothing warned.
    let of = |pid: u32, t: &str| -> Vec<&Value> {
        evs.iter()
            .filter(|e| {
                e["process"]["pid"] == pid && e["event_type"].as_str().unwrap_or("").starts_with(t)
            })
            .collect()
    };
    assert!(of(other, "ai.").is_empty(), "{:#?}", of(other, "ai."));
    let warnings: Vec<&Value> = evs
        .iter()
        .filter(|e| e["event_type"] == "sensor.warning")
        .collect();
    assert!(warnings.is_empty(), "warnings: {warnings:#?}");

    // `status` shows each plaintext client covered through the socket path.
    for pid in [ollama, ollama_streamed, openai, curl, agent] {
        let line = status
            .lines()
            .find(|l| l.contains(&format!("pid {pid} ")))
            .unwrap_or_else(|| panic!("no coverage line for pid {pid}:\n{status}"));
        assert!(
            line.contains("plaintext socket") && line.contains("full content"),
            "{line}"
        );
    }
}

/// The tool episode of the script `pid`: two calls, the first answered with a `run_shell` tool
/// call for `command`, which the script ran (an exec below it, writing `file`), the second
/// carrying the command's output back.
fn check_tool_episode(evs: &[Value], pid: u32, command: &str, file: &str) {
    let of = |t: &str| -> Vec<&Value> {
        evs.iter()
            .filter(|e| e["event_type"] == t && e["process"]["pid"] == pid)
            .collect()
    };
    let requests = of("ai.request");
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert!(
        requests[0]["data"]["tools"]
            .to_string()
            .contains("run_shell"),
        "tool list missing: {}",
        requests[0]
    );
    let call = of("agent.tool_call")
        .into_iter()
        .find(|e| e["data"]["tool"]["name"] == "run_shell")
        .unwrap_or_else(|| panic!("no agent.tool_call run_shell by {pid}"));
    assert_eq!(call["data"]["arguments"]["command"], command, "{call}");
    assert!(
        requests[1]["data"]["messages"]
            .to_string()
            .contains("oisp-plain-check"),
        "the tool result is not in the next request: {}",
        requests[1]
    );
    let exec = evs
        .iter()
        .find(|e| {
            e["event_type"] == "process.exec"
                && e["process"]["pid"] != pid
                && e["process"]["cmdline"]
                    .as_str()
                    .is_some_and(|c| c.contains("tee"))
        })
        .unwrap_or_else(|| panic!("no process.exec of the command"));
    assert!(
        in_tree(exec, pid.into()),
        "the command is not below {pid}: {}",
        exec["process"]
    );
    let write = evs
        .iter()
        .find(|e| e["event_type"] == "file.write" && e["data"]["path"] == file)
        .unwrap_or_else(|| panic!("no file.write of {file}"));
    assert!(
        in_tree(write, pid.into()),
        "the write is not below {pid}: {}",
        write["process"]
    );
}

/// A TLS client whose stack is not hooked (`record --no-ssl` here) is still seen: its ClientHello,
/// read at the socket, names the server (an AI provider's), so the process is in scope (its exec
/// is reported), its connect carries the domain, and `status` shows it covered by metadata only.
#[test]
fn unhooked_tls_is_seen_from_its_client_hello() {
    let Some(mut s) = Session::start_with("unhooked_tls", &["--no-ssl"]) else {
        return;
    };
    let port = s.base().rsplit(':').next().unwrap().to_string();
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"unread"}]}"#;
    let mut c = Command::new("curl");
    c.args(["-sS", "-o", "/dev/null", "--cacert"])
        .arg(&s.ca)
        .args(["--resolve", &format!("api.openai.com:{port}:127.0.0.1")])
        .args(["-H", &format!("Authorization: Bearer {KEY}")])
        .args(["-H", "content-type: application/json", "-d", body])
        .arg(format!("https://api.openai.com:{port}/v1/chat/completions"));
    let curl = s.client("curl", c);
    let status = s.status();
    let evs = s.stop();
    let of = |t: &str| -> Vec<&Value> {
        evs.iter()
            .filter(|e| e["event_type"] == t && e["process"]["pid"] == curl)
            .collect()
    };
    assert!(of("ai.request").is_empty(), "content was not to be read");
    assert_eq!(of("process.exec").len(), 1, "curl's exec is not reported");
    let connects = of("network.connect");
    assert!(
        connects
            .iter()
            .any(|e| e.to_string().contains("api.openai.com")),
        "no network.connect naming api.openai.com: {connects:#?}"
    );
    let warnings: Vec<&Value> = evs
        .iter()
        .filter(|e| e["event_type"] == "sensor.warning")
        .collect();
    assert!(warnings.is_empty(), "warnings: {warnings:#?}");
    let line = status
        .lines()
        .find(|l| l.contains(&format!("pid {curl} ")))
        .unwrap_or_else(|| panic!("no coverage line for curl {curl}:\n{status}"));
    assert!(
        line.contains("metadata only: TLS to api.openai.com"),
        "{line}"
    );
}
