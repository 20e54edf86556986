//! End to end, as root: the mock provider over HTTPS, `oisp-sensor record`, real clients (curl
//! over HTTP/1.1 and HTTP/2, the official openai and anthropic Python SDKs, the openai npm SDK
//! under Node, Debian's GnuTLS `wget`), then checks that every call became exactly one ai.request and one ai.response
//! with the right model, messages, response text, usage, streaming flag, process and destination.
//!
//! One test function per scenario group; each runs its own mock and `record` (one group at a
//! time: they share the machine's probes and CPUs).
//!
//! Needs root and BPF. When not root the tests fail, unless OISP_SKIP_ROOT_TESTS=1 says to skip.

mod e2e;
mod root;

use e2e::*;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

#[test]
fn curl_http1_and_http2() {
    let Some(mut s) = Session::start("curl_http1_and_http2") else {
        return;
    };
    let url = format!("{}/v1/chat/completions", s.base());
    let mut calls = Vec::new();
    for (flag, stream, prompt) in [
        ("--http1.1", false, "Hello from curl h1"),
        ("--http2", true, "Hello from curl h2"),
    ] {
        let usage = if stream {
            r#","stream_options":{"include_usage":true}"#
        } else {
            ""
        };
        let body = format!(
            r#"{{"model":"gpt-4o-mini","stream":{stream}{usage},"messages":[{{"role":"user","content":"{prompt}"}}]}}"#
        );
        let mut c = Command::new("curl");
        c.args(["-sS", "-o", "/dev/null", flag, "--cacert"])
            .arg(&s.ca)
            .args(["-H", &format!("Authorization: Bearer {KEY}")])
            .args(["-H", "content-type: application/json", "-d", &body, &url]);
        calls.push((s.client(flag, c), prompt, stream));
    }
    let evs = s.stop();
    for (pid, prompt, stream) in calls {
        s.check_calls(&evs, pid, 1, &chat_expect("curl", "curl", prompt, stream));
    }
}

#[test]
fn openai_python_and_node_chat() {
    let Some(mut s) = Session::start("openai_python_and_node_chat") else {
        return;
    };
    let py = s.python(
        "python chat",
        "import os, openai\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_BASE'] + '/v1')\n\
         r = c.chat.completions.create(model='gpt-4o-mini', messages=[{'role':'user','content':'Hello from python'}])\n\
         assert r.choices[0].message.content.startswith('This is a mock reply')\n",
    );
    let py_stream = s.python(
        "python chat stream",
        "import os, openai\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_BASE'] + '/v1')\n\
         text = ''\n\
         for ch in c.chat.completions.create(model='gpt-4o-mini', stream=True, stream_options={'include_usage': True}, messages=[{'role':'user','content':'Streamed hello from python'}]):\n\
         \x20   if ch.choices and ch.choices[0].delta.content: text += ch.choices[0].delta.content\n\
         assert text.startswith('This is a mock reply'), text\n",
    );
    let node = s.node(
        "node chat stream",
        "import OpenAI from 'openai';\n\
         const c = new OpenAI({baseURL: process.env.MOCK_BASE + '/v1'});\n\
         const r = await c.chat.completions.create({model:'gpt-4o-mini', stream: true, stream_options: {include_usage: true}, messages:[{role:'user',content:'Hello from node'}]});\n\
         for await (const _ of r) {}\n",
    );
    let evs = s.stop();
    s.check_calls(
        &evs,
        py,
        1,
        &chat_expect("python", "python", "Hello from python", false),
    );
    s.check_calls(
        &evs,
        py_stream,
        1,
        &chat_expect(
            "python-stream",
            "python",
            "Streamed hello from python",
            true,
        ),
    );
    s.check_calls(
        &evs,
        node,
        1,
        &chat_expect("node", "node", "Hello from node", true),
    );
}

#[test]
fn anthropic_python_sdk() {
    let Some(mut s) = Session::start("anthropic_python_sdk") else {
        return;
    };
    let plain = s.python(
        "anthropic messages",
        "import os, anthropic\n\
         c = anthropic.Anthropic(base_url=os.environ['MOCK_BASE'])\n\
         m = c.messages.create(model='claude-sonnet-4-6', max_tokens=256, messages=[{'role':'user','content':'Hello from anthropic'}])\n\
         assert m.content[0].text.startswith('This is a mock reply'), m\n",
    );
    let stream = s.python(
        "anthropic messages stream",
        "import os, anthropic\n\
         c = anthropic.Anthropic(base_url=os.environ['MOCK_BASE'])\n\
         with c.messages.stream(model='claude-haiku-4-5', max_tokens=256, messages=[{'role':'user','content':'Streamed hello from anthropic'}]) as st:\n\
         \x20   text = ''.join(st.text_stream)\n\
         assert text.startswith('This is a mock reply'), text\n",
    );
    let evs = s.stop();
    for (pid, model, prompt, streaming) in [
        (plain, "claude-sonnet-4-6", "Hello from anthropic", false),
        (
            stream,
            "claude-haiku-4-5",
            "Streamed hello from anthropic",
            true,
        ),
    ] {
        let reqs = s.check_calls(
            &evs,
            pid,
            1,
            &Expect {
                client: "anthropic",
                exe: "python",
                cmdline: prompt,
                model,
                prompt: Some(prompt),
                reply: Some("This is a mock reply"),
                stream: streaming,
                path: "/v1/messages",
            },
        );
        let provider = reqs[0]["data"]["provider"]["name"].as_str();
        assert_eq!(provider, Some("anthropic"), "provider: {}", reqs[0]);
    }
}

#[test]
fn openai_tool_calls() {
    let Some(mut s) = Session::start("openai_tool_calls") else {
        return;
    };
    let pid = s.python(
        "tool calls",
        "import os, openai\n\
         tool = {'type':'function','function':{'name':'get_weather','description':'Weather of a city','parameters':{'type':'object','properties':{'location':{'type':'string'}},'required':['location']}}}\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_BASE'] + '/v1')\n\
         r = c.chat.completions.create(model='gpt-4o-mini', tools=[tool], messages=[{'role':'user','content':'Weather in Paris and Lyon?'}])\n\
         calls = r.choices[0].message.tool_calls\n\
         assert [t.function.name for t in calls] == ['get_weather', 'get_weather'], calls\n",
    );
    let evs = s.stop();
    s.check_calls(
        &evs,
        pid,
        1,
        &Expect {
            reply: None,
            ..chat_expect("tools", "python", "Weather in Paris and Lyon?", false)
        },
    );
    let tool_calls: Vec<&Value> = evs
        .iter()
        .filter(|e| e["event_type"] == "agent.tool_call" && e["process"]["pid"] == pid)
        .collect();
    assert_eq!(
        tool_calls.len(),
        2,
        "agent.tool_call events: {tool_calls:#?}"
    );
    for t in &tool_calls {
        let t_s = t.to_string();
        assert!(t_s.contains("get_weather"), "tool name: {t_s}");
    }
    let all = tool_calls.iter().map(|t| t.to_string()).collect::<String>();
    assert!(
        all.contains("Paris") && all.contains("Lyon"),
        "tool arguments: {all}"
    );
}

#[test]
fn openai_embeddings() {
    let Some(mut s) = Session::start("openai_embeddings") else {
        return;
    };
    let pid = s.python(
        "embeddings",
        "import os, openai\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_BASE'] + '/v1')\n\
         r = c.embeddings.create(model='text-embedding-3-small', input='Embed this sentence please')\n\
         assert len(r.data[0].embedding) == 1536\n",
    );
    let evs = s.stop();
    let reqs = s.check_calls(
        &evs,
        pid,
        1,
        &Expect {
            client: "embeddings",
            exe: "python",
            cmdline: "Embed this sentence please",
            model: "text-embedding-3-small",
            prompt: Some("Embed this sentence please"),
            reply: None,
            stream: false,
            path: "/v1/embeddings",
        },
    );
    assert_eq!(
        reqs[0]["data"]["request_type"], "embedding",
        "request type: {}",
        reqs[0]
    );
    // The input that left the machine, whole, as the request's one user message.
    assert_eq!(
        reqs[0]["data"]["messages"],
        serde_json::json!([{"role": "user", "content": "Embed this sentence please", "content_length": 26}]),
        "input: {}",
        reqs[0]
    );
    assert_eq!(reqs[0]["data"]["messages_count"], 1, "{}", reqs[0]);
}

#[test]
fn openai_responses_api() {
    let Some(mut s) = Session::start("openai_responses_api") else {
        return;
    };
    let plain = s.python(
        "responses",
        "import os, openai\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_BASE'] + '/v1')\n\
         r = c.responses.create(model='gpt-4.1', input='Hello from the responses API')\n\
         assert r.output_text.startswith('This is a mock reply'), r.output_text\n",
    );
    let stream = s.python(
        "responses stream",
        "import os, openai\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_BASE'] + '/v1')\n\
         text = ''\n\
         for ev in c.responses.create(model='gpt-4.1', input='Streamed responses API hello', stream=True):\n\
         \x20   if ev.type == 'response.output_text.delta': text += ev.delta\n\
         assert text.startswith('This is a mock reply'), text\n",
    );
    let evs = s.stop();
    for (pid, prompt, streaming) in [
        (plain, "Hello from the responses API", false),
        (stream, "Streamed responses API hello", true),
    ] {
        s.check_calls(
            &evs,
            pid,
            1,
            &Expect {
                client: "responses",
                exe: "python",
                cmdline: prompt,
                model: "gpt-4.1",
                prompt: Some(prompt),
                reply: Some("This is a mock reply"),
                stream: streaming,
                path: "/v1/responses",
            },
        );
    }
}

#[test]
fn large_prompt_1mb() {
    let Some(mut s) = Session::start("large_prompt_1mb") else {
        return;
    };
    let pid = s.python(
        "1 MiB prompt",
        "import os, openai\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_BASE'] + '/v1')\n\
         big = 'Large prompt start. ' + ('x' * (1024 * 1024)) + ' large prompt end'\n\
         r = c.chat.completions.create(model='gpt-4o-mini', messages=[{'role':'user','content':big}])\n\
         assert r.choices[0].message.content.startswith('This is a mock reply')\n",
    );
    let evs = s.stop();
    let reqs = s.check_calls(
        &evs,
        pid,
        1,
        &Expect {
            cmdline: "Large prompt start",
            ..chat_expect("1mb", "python", "Large prompt start", false)
        },
    );
    let len = reqs[0]["data"]["messages"][0]["content_length"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        len >= 1024 * 1024,
        "the 1 MiB prompt was not decoded whole: content_length {len}"
    );
    let lost: Vec<&Value> = evs
        .iter()
        .filter(|e| e.to_string().contains("records_lost"))
        .collect();
    assert!(lost.is_empty(), "records lost: {lost:#?}");
}

#[test]
fn concurrent_20_over_keepalive() {
    let Some(mut s) = Session::start("concurrent_20_over_keepalive") else {
        return;
    };
    // 20 threads share one client whose pool holds at most 4 connections: requests queue for
    // and reuse keep-alive connections.
    let pid = s.python(
        "20 concurrent",
        "import os, openai, importlib\n\
         from concurrent.futures import ThreadPoolExecutor\n\
         httpx = importlib.import_module(openai.DefaultHttpxClient.__mro__[1].__module__.split('.')[0])\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_BASE'] + '/v1', http_client=openai.DefaultHttpxClient(limits=httpx.Limits(max_connections=4, max_keepalive_connections=4)))\n\
         def one(i):\n\
         \x20   r = c.chat.completions.create(model='gpt-4o-mini', messages=[{'role':'user','content':f'Concurrent request number {i:02d}'}])\n\
         \x20   return r.choices[0].message.content\n\
         with ThreadPoolExecutor(20) as ex:\n\
         \x20   out = list(ex.map(one, range(20)))\n\
         assert all(o.startswith('This is a mock reply') for o in out)\n",
    );
    let evs = s.stop();
    let reqs = s.check_calls(
        &evs,
        pid,
        20,
        &Expect {
            cmdline: "Concurrent request number",
            ..chat_expect("concurrent", "python", "Concurrent request number", false)
        },
    );
    for i in 0..20 {
        let p = format!("Concurrent request number {i:02}");
        let n = reqs.iter().filter(|r| r.to_string().contains(&p)).count();
        assert_eq!(n, 1, "{p}: {n} ai.request events");
    }
    let mut conns: Vec<String> = reqs
        .iter()
        .map(|r| r["attrs"]["conn_id"].to_string())
        .collect();
    conns.sort();
    conns.dedup();
    assert!(
        conns.len() <= 4,
        "20 requests over at most 4 keep-alive connections, saw {} connections",
        conns.len()
    );
}

#[test]
fn client_file_write() {
    let Some(mut s) = Session::start("client_file_write") else {
        return;
    };
    let out = s.tmp.join("answer.txt");
    let code = format!(
        "import os, openai\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_BASE'] + '/v1')\n\
         r = c.chat.completions.create(model='gpt-4o-mini', messages=[{{'role':'user','content':'Write this answer to a file'}}])\n\
         open({:?}, 'w').write(r.choices[0].message.content)\n",
        out.display().to_string()
    );
    let pid = s.python("file write", &code);
    let evs = s.stop();
    s.check_calls(
        &evs,
        pid,
        1,
        &chat_expect("file", "python", "Write this answer to a file", false),
    );
    let path = out.display().to_string();
    let writes: Vec<&Value> = evs
        .iter()
        .filter(|e| {
            e["event_type"] == "file.write"
                && e["process"]["pid"] == pid
                && e.to_string().contains(&path)
        })
        .collect();
    assert!(
        !writes.is_empty(),
        "no file.write of {path} by pid {pid}; file events: {:#?}",
        evs.iter()
            .filter(|e| e["event_type"].as_str().unwrap_or("").starts_with("file."))
            .collect::<Vec<_>>()
    );
}

/// A client connection with only plain (non-AI) requests over keep-alive stops being copied in
/// the kernel after a few exchanges (`status` counts it), while an AI call the same process makes
/// on another connection meanwhile is captured in full.
#[test]
fn non_ai_keepalive_connection_ignored() {
    let Some(mut s) = Session::start("non_ai_keepalive_connection_ignored") else {
        return;
    };
    let pid = s.python(
        "plain requests + one chat call",
        "import os, time, openai\n\
         base = os.environ['MOCK_BASE']\n\
         with openai.DefaultHttpxClient() as h:\n\
         \x20   for i in range(10):\n\
         \x20       h.get(base + '/healthz?n=%d' % i)\n\
         \x20   time.sleep(1.5)\n\
         \x20   c = openai.OpenAI(base_url=base + '/v1')\n\
         \x20   r = c.chat.completions.create(model='gpt-4o-mini', messages=[{'role':'user','content':'Captured beside an ignored connection'}])\n\
         \x20   assert r.choices[0].message.content.startswith('This is a mock reply')\n\
         \x20   for i in range(30):\n\
         \x20       h.get(base + '/healthz?m=%d' % i)\n",
    );
    // `record` publishes its counters every second; read them before it stops (and clears them).
    std::thread::sleep(Duration::from_millis(2500));
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(s.tmp.join("state.json")).expect("record's state file"),
    )
    .expect("state JSON");
    let c = &state["counters"];
    assert!(
        c["ignored_sessions"].as_u64().unwrap_or(0) >= 1,
        "the plain keep-alive connection was not ignored: {c}"
    );
    assert!(
        c["skipped_calls"].as_u64().unwrap_or(0) >= 30,
        "the kernel did not skip the ignored connection's later SSL calls: {c}"
    );
    let evs = s.stop();
    s.check_calls(
        &evs,
        pid,
        1,
        &chat_expect(
            "beside-ignored",
            "python",
            "Captured beside an ignored connection",
            false,
        ),
    );
}

/// Debian's `wget` (GnuTLS, no libssl mapped) POSTs a chat completion: captured through the
/// GnuTLS probes (`record`'s state lists them on libgnutls), one ai.request + ai.response with
/// the prompt, the reply and the SNI, for wget's pid.
#[test]
fn wget_gnutls_chat() {
    let Some(mut s) = Session::start("wget_gnutls_chat") else {
        return;
    };
    let prompt = "Hello from wget over GnuTLS";
    let body =
        format!(r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"{prompt}"}}]}}"#);
    let mut c = Command::new("/usr/bin/wget");
    c.args(["-q", "--no-hsts", "-O", "-", "--ca-certificate"])
        .arg(&s.ca)
        .args(["--header", "Content-Type: application/json"])
        .args(["--header", &format!("Authorization: Bearer {KEY}")])
        .args(["--post-data", &body])
        .arg(format!("{}/v1/chat/completions", s.base()));
    let pid = s.client("wget", c);
    // `record` publishes its state (probes included) within a second of starting.
    let state_file = s.tmp.join("state.json");
    for _ in 0..50 {
        if state_file.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).expect("record's state file"))
            .expect("state JSON");
    let gnutls: Vec<&Value> = state["probes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| {
                    p["path"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("libgnutls.so")
                })
                .collect()
        })
        .unwrap_or_default();
    for want in ["gnutls_record_send", "gnutls_record_recv", "gnutls_deinit"] {
        assert!(
            gnutls
                .iter()
                .any(|p| p["symbol"].as_str().unwrap_or_default().starts_with(want)),
            "no {want} probe on libgnutls: {gnutls:#?}"
        );
    }
    let evs = s.stop();
    s.check_calls(
        &evs,
        pid,
        1,
        &chat_expect("wget", "/usr/bin/wget", prompt, false),
    );
}
