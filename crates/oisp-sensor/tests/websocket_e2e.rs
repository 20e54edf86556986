//! End to end, as root, over WebSocket: the mock provider's `/v1/realtime` and `/v1/responses`
//! WebSocket endpoints, `oisp-sensor record`, and real clients — the official openai Python
//! SDK's Realtime client (`client.realtime.connect`, a text turn without compression and a
//! function-call conversation with permessage-deflate) and a raw `websockets` client sending a
//! Responses `response.create` — then checks each turn became one ai.request and one ai.response
//! with the right model, prompt, reply, usage, process and destination, and the tool call became
//! an agent.tool_call.
//!
//! With `OISP_CODEX_BIN` set (tools/agents/fetch.sh fetches Codex), Codex with
//! `supports_websockets = true` runs one scripted exec_command step over the Responses API on a
//! WebSocket: its prewarm is not a call, its two turns are.
//!
//! Needs root and BPF. When not root the tests fail, unless OISP_SKIP_ROOT_TESTS=1 says to skip.

mod e2e;
mod root;

use e2e::*;
use serde_json::Value;

#[test]
fn openai_realtime_and_responses_over_websocket() {
    let Some(mut s) = Session::start("websocket") else {
        return;
    };
    let text = s.python(
        "realtime text",
        "import os, openai\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_BASE'] + '/v1')\n\
         with c.realtime.connect(model='gpt-realtime') as conn:\n\
         \x20   conn.session.update(session={'type': 'realtime', 'output_modalities': ['text']})\n\
         \x20   conn.conversation.item.create(item={'type': 'message', 'role': 'user', 'content': [{'type': 'input_text', 'text': 'Realtime hello over a websocket'}]})\n\
         \x20   conn.response.create()\n\
         \x20   text = ''\n\
         \x20   for ev in conn:\n\
         \x20       if ev.type == 'response.output_text.delta': text += ev.delta\n\
         \x20       if ev.type == 'response.done': break\n\
         assert text.startswith('This is a mock reply'), text\n",
    );
    let tools = s.python(
        "realtime function call",
        "import os, json, openai\n\
         c = openai.OpenAI(base_url=os.environ['MOCK_BASE'] + '/v1')\n\
         tool = {'type': 'function', 'name': 'get_weather', 'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}, 'required': ['city']}}\n\
         def turn(conn):\n\
         \x20   out = {'text': '', 'calls': []}\n\
         \x20   for ev in conn:\n\
         \x20       if ev.type == 'response.output_text.delta': out['text'] += ev.delta\n\
         \x20       if ev.type == 'response.function_call_arguments.done': out['calls'].append(ev.call_id)\n\
         \x20       if ev.type == 'response.done': return out\n\
         with c.realtime.connect(model='gpt-realtime', websocket_connection_options={'max_size': 1 << 24}) as conn:\n\
         \x20   conn.session.update(session={'type': 'realtime', 'output_modalities': ['text'], 'tools': [tool]})\n\
         \x20   conn.conversation.item.create(item={'type': 'message', 'role': 'user', 'content': [{'type': 'input_text', 'text': 'Realtime weather in Paris please'}]})\n\
         \x20   conn.response.create()\n\
         \x20   first = turn(conn)\n\
         \x20   assert len(first['calls']) == 1, first\n\
         \x20   conn.conversation.item.create(item={'type': 'function_call_output', 'call_id': first['calls'][0], 'output': json.dumps({'temp_c': 18})})\n\
         \x20   conn.response.create()\n\
         \x20   second = turn(conn)\n\
         assert second['text'].startswith('Based on the tool results'), second\n",
    );
    let responses = s.python(
        "responses over websocket",
        "import os, json, ssl\n\
         from websockets.sync.client import connect\n\
         url = os.environ['MOCK_BASE'].replace('https://', 'wss://') + '/v1/responses'\n\
         hdr = {'Authorization': 'Bearer ' + os.environ['OPENAI_API_KEY']}\n\
         with connect(url, ssl=ssl.create_default_context(), additional_headers=hdr) as ws:\n\
         \x20   ws.send(json.dumps({'type': 'response.create', 'model': 'gpt-4o-mini', 'input': 'Responses hello over a websocket'}))\n\
         \x20   text = ''\n\
         \x20   for raw in ws:\n\
         \x20       ev = json.loads(raw)\n\
         \x20       if ev['type'] == 'response.output_text.delta': text += ev['delta']\n\
         \x20       if ev['type'] == 'response.completed': break\n\
         assert text.startswith('This is a mock reply'), text\n",
    );
    let evs = s.stop();
    let realtime = |cmdline: &'static str, reply: Option<&'static str>| Expect {
        client: "realtime",
        exe: "python",
        cmdline,
        model: "gpt-realtime",
        prompt: Some(cmdline),
        reply,
        stream: true,
        path: "/v1/realtime",
    };
    let reqs = s.check_calls(
        &evs,
        text,
        1,
        &realtime(
            "Realtime hello over a websocket",
            Some("This is a mock reply"),
        ),
    );
    assert_eq!(reqs[0]["attrs"]["websocket"]["api"], "openai_realtime");
    assert_eq!(reqs[0]["attrs"]["websocket"]["compressed"], false);
    let reqs = s.check_calls(
        &evs,
        tools,
        2,
        &realtime("Realtime weather in Paris please", None),
    );
    assert_eq!(reqs[0]["attrs"]["websocket"]["compressed"], true);
    let tool_calls: Vec<_> = evs
        .iter()
        .filter(|e| e["event_type"] == "agent.tool_call" && e["process"]["pid"] == tools)
        .collect();
    assert_eq!(tool_calls.len(), 1, "{tool_calls:#?}");
    assert_eq!(tool_calls[0]["data"]["tool"]["name"], "get_weather");
    let answered = evs.iter().any(|e| {
        e["event_type"] == "ai.response"
            && e["process"]["pid"] == tools
            && e.to_string().contains("Based on the tool results")
    });
    assert!(answered, "no answer to the tool result");
    s.check_calls(
        &evs,
        responses,
        1,
        &Expect {
            client: "responses websocket",
            exe: "python",
            cmdline: "Responses hello over a websocket",
            model: "gpt-4o-mini",
            prompt: Some("Responses hello over a websocket"),
            reply: Some("This is a mock reply"),
            stream: true,
            path: "/v1/responses",
        },
    );
}

#[test]
fn codex_responses_over_websocket() {
    let Ok(codex) = std::env::var("OISP_CODEX_BIN") else {
        eprintln!(
            "skipped: OISP_CODEX_BIN is not set (tools/agents/fetch.sh fetches Codex; \
             point OISP_CODEX_BIN at its binary)"
        );
        return;
    };
    // On PATH before `record` starts, as `codex` is for a user: probed at start.
    let dir = std::path::Path::new(&codex).parent().unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    if !std::env::split_paths(&path).any(|p| p == dir) {
        std::env::set_var("PATH", format!("{}:{path}", dir.display()));
    }
    let Some(mut s) = Session::start("codex_websocket") else {
        return;
    };
    let work = s.tmp.join("work");
    let prompt =
        r#"Run this for me. [[tool:exec_command {"cmd": "echo oisp-ws-e2e | tee out.txt"}]]"#;
    let timeout_pid = s.codex_exec(prompt, &work, true);
    assert_eq!(
        std::fs::read_to_string(work.join("out.txt"))
            .unwrap_or_default()
            .trim(),
        "oisp-ws-e2e",
        "codex did not run the command"
    );
    let evs = s.stop();
    let agent = evs
        .iter()
        .find(|e| e["event_type"] == "process.exec" && e["process"]["ppid"] == timeout_pid)
        .and_then(|e| e["process"]["pid"].as_u64())
        .unwrap_or_else(|| panic!("no process.exec of codex (child of pid {timeout_pid})"));
    let of = |t: &str| -> Vec<&Value> {
        evs.iter()
            .filter(|e| e["event_type"] == t && e["process"]["pid"] == agent)
            .collect()
    };
    let reqs = of("ai.request");
    assert_eq!(reqs.len(), 2, "codex turns over the websocket: {reqs:#?}");
    for rq in &reqs {
        assert_eq!(rq["attrs"]["websocket"]["api"], "openai_responses", "{rq}");
        assert_eq!(rq["data"]["model"]["id"], "gpt-5-codex");
        let endpoint = rq["data"]["provider"]["endpoint"].as_str().unwrap_or("");
        assert_eq!(endpoint, format!("{}/v1/responses", s.base()));
    }
    assert_eq!(reqs[0]["attrs"]["websocket"]["prewarms"], 1);
    assert!(reqs[0]["data"]["messages"]
        .to_string()
        .contains("oisp-ws-e2e"));
    let resps = of("ai.response");
    assert_eq!(resps.len(), 2);
    assert!(resps[1].to_string().contains("Based on the tool results"));
    let calls = of("agent.tool_call");
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0]["data"]["tool"]["name"], "exec_command");
}
