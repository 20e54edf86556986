//! End to end, as root: AI calls whose content nothing can read are still seen, from their
//! metadata. `record --no-ssl` hooks no TLS stack; curl, in a network namespace this test creates
//! (loopback up, the mock on 127.0.0.1:443) and a private mount namespace where a bind-mounted
//! hosts file resolves api.openai.com to that address, makes three chat completions on one
//! HTTP/2 connection to `https://api.openai.com/`, the second streamed. Nothing decodes them; the
//! ClientHello names the server, the socket's reads and writes (sizes and times, no content)
//! give a `network.flow` with AI-level estimates: three calls, the streamed one recognised,
//! tokens within a factor of 2 of the counts the mock reported (prompts of a few kilobytes: the
//! estimate subtracts assumed HTTP/TLS overheads, which dominate short exchanges), low
//! confidence, metadata only, and no `ai.request`/`ai.response`.
//!
//! Needs root and BPF, `unshare` (util-linux) and `ip` (iproute2). When not root the test fails,
//! unless OISP_SKIP_ROOT_TESTS=1 says to skip.

mod e2e;
mod root;

use e2e::*;
use serde_json::Value;
use std::process::Command;

/// A prompt of about `n` bytes of English-like text (the mock counts a token per 4 bytes).
fn prompt(tag: &str, n: usize) -> String {
    let words = [
        "metadata",
        "only",
        "flows",
        "carry",
        "sizes",
        "and",
        "timing",
        "but",
        "no",
        "content",
        "so",
        "the",
        "sensor",
        "estimates",
        "calls",
        "from",
        "bursts",
    ];
    let mut s = format!("{tag}:");
    let mut i = 0;
    while s.len() < n {
        s.push(' ');
        s.push_str(words[i % words.len()]);
        i += 1;
    }
    s
}

/// A DNS server for the namespace: answers an A query for api.anthropic.com with 127.0.0.1,
/// anything else with no answer (NOERROR); creates the file named by its argument once bound.
const DNS_SERVER: &str = r#"
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
open(sys.argv[1], "w").close()
while True:
    q, peer = s.recvfrom(4096)
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode().lower())
        i += q[i] + 1
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    ans = b""
    if qtype == 1 and ".".join(labels) == "api.anthropic.com":
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 1])
    flags = 0x8180 | (0x0100 & struct.unpack(">H", q[2:4])[0])
    s.sendto(q[:2] + struct.pack(">HHHHH", flags, 1, 1 if ans else 0, 0, 0) + question + ans, peer)
"#;

/// The usage the mock reported in a response body (JSON, or an SSE stream's last usage chunk):
/// (prompt_tokens, completion_tokens).
fn usage_of(body: &str) -> (u64, u64) {
    let usage = if body.trim_start().starts_with('{') {
        serde_json::from_str::<Value>(body).expect("response JSON")["usage"].clone()
    } else {
        body.lines()
            .rev()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .find(|v| v["usage"].is_object())
            .expect("a usage chunk in the stream")["usage"]
            .clone()
    };
    let n = |k: &str| {
        usage[k]
            .as_u64()
            .unwrap_or_else(|| panic!("usage {k}: {usage}"))
    };
    (n("prompt_tokens"), n("completion_tokens"))
}

/// `estimate` is within a factor of 2 of `real`.
fn within_2x(what: &str, estimate: u64, real: u64) {
    assert!(
        estimate * 2 >= real && estimate <= real * 2,
        "{what}: estimated {estimate}, the mock counted {real} (not within a factor of 2)"
    );
}

#[test]
fn unhooked_client_in_a_namespace_gives_a_provider_flow_with_estimates() {
    // The raw capture too: its replay must give the same flows (the decoding is deterministic).
    let raw = std::env::temp_dir().join(format!("oisp-metadata-{}.oraw", std::process::id()));
    let raw_arg = raw.to_string_lossy().into_owned();
    let Some(mut s) = Session::start_with("metadata_flow", &["--no-ssl", "--raw-out", &raw_arg])
    else {
        return;
    };
    for tool in ["unshare", "ip", "curl"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "{tool} is needed (scripts/install-deps.sh installs it)"
        );
    }
    let dir = s.tmp.join("ns");
    std::fs::create_dir_all(&dir).unwrap();
    // (prompt bytes, streamed)
    let calls = [(6000, false), (3000, true), (4000, false)];
    let mut curl_args = Vec::new();
    for (i, (n, stream)) in calls.iter().enumerate() {
        let body = serde_json::json!({
            "model": "gpt-4o-mini",
            "stream": stream,
            "stream_options": if *stream { serde_json::json!({"include_usage": true}) } else { Value::Null },
            "messages": [{"role": "user", "content": prompt(&format!("call {i}"), *n)}],
        });
        let body_file = dir.join(format!("body{i}.json"));
        std::fs::write(&body_file, body.to_string()).unwrap();
        if i > 0 {
            curl_args.push("--next".to_string());
        }
        curl_args.extend(
            [
                "-sS",
                "--http2",
                "--cacert",
                &s.ca.to_string_lossy(),
                "-H",
                &format!("Authorization: Bearer {KEY}"),
                "-H",
                "content-type: application/json",
                "-d",
                &format!("@{}", body_file.display()),
                "-o",
                &dir.join(format!("out{i}")).to_string_lossy(),
                "https://api.openai.com/v1/chat/completions",
            ]
            .map(String::from),
        );
    }
    std::fs::write(
        dir.join("hosts"),
        "127.0.0.1 localhost\n127.0.0.1 api.openai.com\n",
    )
    .unwrap();
    std::fs::write(dir.join("resolv.conf"), "nameserver 127.0.0.1\n").unwrap();
    std::fs::write(dir.join("dns.py"), DNS_SERVER).unwrap();
    let anthropic_body = serde_json::json!({
        "model": "claude-3-5-haiku-latest", "max_tokens": 200, "stream": true,
        "messages": [{"role": "user", "content": prompt("resolved by DNS", 3000)}],
    });
    std::fs::write(dir.join("anthropic.json"), anthropic_body.to_string()).unwrap();
    // Inside new network and mount namespaces: loopback up, the hosts file (api.openai.com) and
    // resolv.conf (a DNS server on 127.0.0.1 answering api.anthropic.com) bind-mounted, the mock
    // on 127.0.0.1:443 (same CA as the session's); curl to api.openai.com (three calls), curl to
    // api.anthropic.com (one streamed call, its address from DNS); then the servers stopped.
    let script = r#"set -eu
ip link set lo up
mount --bind "$NS_DIR/hosts" /etc/hosts
mount --bind "$NS_DIR/resolv.conf" /etc/resolv.conf
python3 "$NS_DIR/dns.py" "$NS_DIR/dns.ready" &
dns=$!
"$MOCK_PY" "$MOCK_DIR/mock.py" --port 443 --quiet --port-file "$NS_DIR/port.json" --ca-dir "$CA_DIR" &
mock=$!
for _ in $(seq 300); do [ -s "$NS_DIR/port.json" ] && [ -e "$NS_DIR/dns.ready" ] && break; sleep 0.05; done
[ -s "$NS_DIR/port.json" ] || { echo "mock did not start in the namespace" >&2; exit 1; }
[ -e "$NS_DIR/dns.ready" ] || { echo "DNS server did not start in the namespace" >&2; exit 1; }
rc=0
curl "$@" || rc=$?
curl -sS --http1.1 --cacert "$CA_DIR/ca.pem" -H "x-api-key: $ANTHROPIC_API_KEY" \
  -H "anthropic-version: 2023-06-01" -H "content-type: application/json" \
  -d @"$NS_DIR/anthropic.json" -o "$NS_DIR/anthropic.out" https://api.anthropic.com/v1/messages || rc=$?
kill -TERM "$mock" "$dns"; wait "$mock" || true; wait "$dns" || true
exit $rc
"#;
    let mut c = Command::new("unshare");
    c.args(["--net", "--mount", "bash", "-c", script, "ns"])
        .args(&curl_args)
        .env("NS_DIR", &dir)
        .env("MOCK_DIR", mock_dir())
        .env("MOCK_PY", mock_dir().join(".venv/bin/python"))
        .env("CA_DIR", s.ca.parent().unwrap());
    let root = s.client("curl in a namespace", c);
    let status = s.status();
    let evs = s.stop();

    let real: Vec<(u64, u64)> = (0..calls.len())
        .map(|i| usage_of(&std::fs::read_to_string(dir.join(format!("out{i}"))).unwrap()))
        .collect();
    // Two curls: the one whose events name api.openai.com, and the one of api.anthropic.com.
    let curls: std::collections::BTreeSet<u64> = evs
        .iter()
        .filter(|e| {
            in_tree(e, root as u64) && e["process"]["exe"].as_str().unwrap_or("").ends_with("curl")
        })
        .filter_map(|e| e["process"]["pid"].as_u64())
        .collect();
    assert_eq!(curls.len(), 2, "two curl processes below {root}: {curls:?}");
    let openai_pid = evs
        .iter()
        .filter(|e| curls.contains(&e["process"]["pid"].as_u64().unwrap_or(0)))
        .find(|e| e.to_string().contains("api.openai.com"))
        .and_then(|e| e["process"]["pid"].as_u64())
        .expect("an event of curl naming api.openai.com");
    let curl: Vec<&Value> = evs
        .iter()
        .filter(|e| e["process"]["pid"] == openai_pid)
        .collect();
    let of = |t: &str| -> Vec<&Value> {
        curl.iter()
            .copied()
            .filter(|e| e["event_type"] == t)
            .collect()
    };
    assert!(!curl.is_empty(), "no event of curl below pid {root}");
    assert!(
        of("ai.request").is_empty() && of("ai.response").is_empty(),
        "nothing was to be decoded: {:#?}",
        of("ai.request")
    );

    // The connect names the server (from the ClientHello) and its provider.
    let connects = of("network.connect");
    let connect = connects
        .iter()
        .find(|e| e["data"]["dest"]["domain"] == "api.openai.com")
        .unwrap_or_else(|| panic!("no network.connect to api.openai.com: {connects:#?}"));
    assert_eq!(connect["data"]["dest"]["ip"], "127.0.0.1", "{connect}");
    assert_eq!(connect["data"]["dest"]["port"], 443, "{connect}");
    assert_eq!(connect["attrs"]["provider_name"], "openai", "{connect}");

    // One flow: bytes and time both ways, the server, the provider, the estimates.
    let flows = of("network.flow");
    assert_eq!(flows.len(), 1, "one connection, one flow: {flows:#?}");
    let f = flows[0];
    let d = &f["data"];
    assert_eq!(d["dest"]["domain"], "api.openai.com", "{f}");
    assert_eq!(d["dest"]["port"], 443, "{f}");
    assert_eq!(d["tls"]["sni"], "api.openai.com", "{f}");
    let sent = d["bytes_sent"].as_u64().unwrap_or(0);
    let received = d["bytes_received"].as_u64().unwrap_or(0);
    assert!(sent > 13_000 && received > 2_000, "bytes: {f}");
    assert!(d["duration_ms"].as_u64().unwrap_or(0) > 0, "duration: {f}");
    assert!(
        d["start_time"].is_string() && d["end_time"].is_string(),
        "{f}"
    );
    assert_eq!(f["confidence"]["level"], "low", "{f}");
    assert_eq!(f["confidence"]["completeness"], "metadata_only", "{f}");
    assert_eq!(f["attrs"]["provider_name"], "openai", "{f}");
    let est = &f["attrs"]["ai_estimate"];
    eprintln!("flow: {d:#}\nestimates: {est:#}\nthe mock's usage (prompt, completion): {real:?}");
    assert_eq!(est["capture_method"], "metadata", "{f}");
    assert_eq!(est["provider"], "openai", "{f}");
    assert_eq!(est["calls"], calls.len(), "calls: {est:#}");
    assert_eq!(est["streaming_calls"], 1, "{est:#}");
    let per_call = est["per_call"].as_array().expect("per_call");
    for (i, ((_, stream), (prompt_tokens, completion_tokens))) in
        calls.iter().zip(&real).enumerate()
    {
        let c = &per_call[i];
        assert_eq!(c["streaming"], *stream, "call {i}: {c}");
        assert!(c["time_to_first_byte_ms"].is_u64(), "call {i}: {c}");
        let input = c["input_tokens"].as_u64().unwrap();
        let output = c["output_tokens"].as_u64().unwrap();
        within_2x(&format!("call {i} input tokens"), input, *prompt_tokens);
        if *stream {
            // a streamed answer is counted by its events
            within_2x(
                &format!("call {i} output tokens"),
                output,
                *completion_tokens,
            );
        } else {
            // a short non-streamed answer is smaller than the assumed HTTP overhead
            assert!(output >= 1, "call {i}: {c}");
        }
        within_2x(
            &format!("call {i} tokens"),
            input + output,
            prompt_tokens + completion_tokens,
        );
    }

    // `status`: the process is covered by metadata only, with its estimates.
    let curl_pid = f["process"]["pid"].as_u64().unwrap();
    let line = status
        .lines()
        .find(|l| l.contains(&format!("pid {curl_pid} ")))
        .unwrap_or_else(|| panic!("no coverage line for curl {curl_pid}:\n{status}"));
    assert!(
        line.contains("metadata only: TLS to api.openai.com") && line.contains("estimated 3 calls"),
        "{line}"
    );
    // The second curl resolved api.anthropic.com through DNS: the answer is an event, and its
    // flow is attributed to Anthropic, one streamed call.
    let anthropic_pid = *curls.iter().find(|p| **p != openai_pid).unwrap();
    let of2 = |t: &str| -> Vec<&Value> {
        evs.iter()
            .filter(|e| e["event_type"] == t && e["process"]["pid"] == anthropic_pid)
            .collect()
    };
    let dns = of2("network.dns");
    let a = dns
        .iter()
        .find(|e| e["data"]["query_name"] == "api.anthropic.com" && e["data"]["query_type"] == "A")
        .unwrap_or_else(|| panic!("no network.dns answer for api.anthropic.com: {dns:#?}"));
    assert_eq!(a["data"]["answers"][0]["value"], "127.0.0.1", "{a}");
    assert_eq!(a["data"]["resolver"], "127.0.0.1", "{a}");
    let f2 = of2("network.flow");
    assert_eq!(f2.len(), 1, "{f2:#?}");
    let est2 = &f2[0]["attrs"]["ai_estimate"];
    eprintln!("anthropic flow estimates: {est2:#}");
    assert_eq!(est2["provider"], "anthropic", "{est2:#}");
    assert_eq!(
        (est2["calls"].as_u64(), est2["streaming_calls"].as_u64()),
        (Some(1), Some(1)),
        "{est2:#}"
    );
    assert!(of2("ai.request").is_empty());

    // `show` and `analyze` (from the store `record` wrote) show the flow as estimated, apart
    // from decoded calls; the provider selects it.
    let store = s.tmp.join("events.db");
    let sensor = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_oisp-sensor"));
        c.env("NO_COLOR", "1").env("OISP_CONFIG", "");
        c
    };
    let show = run(
        sensor()
            .args([
                "show",
                "--type",
                "network.flow",
                "--provider",
                "openai",
                "-i",
            ])
            .arg(&store),
        "show",
    );
    assert!(
        show.contains("estimated openai: 3 calls (1 streamed) ~")
            && show.contains("(metadata only)")
            && show.contains("(api.openai.com)"),
        "show:\n{show}"
    );
    let analyze = run(sensor().args(["analyze", "-i"]).arg(&store), "analyze");
    eprintln!("show:\n{show}\nanalyze:\n{analyze}");
    let row = |name: &str| -> String {
        analyze
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("analyze has no {name:?} row:\n{analyze}"))
            .to_string()
    };
    assert!(
        row("estimated calls (metadata only)")
            .trim_end()
            .ends_with(" 4"),
        "{analyze}"
    );
    assert!(row("ai calls").trim_end().ends_with(" 0"), "{analyze}");
    let warnings: Vec<&Value> = evs
        .iter()
        .filter(|e| e["event_type"] == "sensor.warning")
        .collect();
    assert!(warnings.is_empty(), "warnings: {warnings:#?}");

    // `replay` of the raw capture (FlowActivity and DnsMessage records, tags 12 and 13) decodes
    // to the same flows and DNS answers.
    let replayed_file = s.tmp.join("replayed.jsonl");
    run(
        sensor()
            .env("OISP_STORE", s.tmp.join("replay.db"))
            .arg("replay")
            .arg(&raw)
            .arg("-o")
            .arg(&replayed_file),
        "replay",
    );
    let _ = std::fs::remove_file(&raw);
    let replayed: Vec<Value> = std::fs::read_to_string(&replayed_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let facts = |evs: &[Value], t: &str| -> Vec<String> {
        evs.iter()
            .filter(|e| e["event_type"] == t)
            .map(|e| format!("{} {}", e["data"], e["attrs"]["ai_estimate"]))
            .collect()
    };
    for t in ["network.flow", "network.dns"] {
        assert_eq!(
            facts(&evs, t),
            facts(&replayed, t),
            "{t}: live and replayed differ"
        );
    }
}

/// The same kind of client with its TLS stack hooked (curl on libssl, `record` on its defaults):
/// its call is decoded, and its connection — followed for metadata from its ClientHello until the
/// hooked stack's session took it over — gives no estimated flow.
#[test]
fn a_hooked_client_is_decoded_not_estimated() {
    let Some(mut s) = Session::start("metadata_hooked") else {
        return;
    };
    let port = s.base().rsplit(':').next().unwrap().to_string();
    let prompt = prompt("hooked", 2000);
    let body = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": prompt}],
    });
    let mut c = Command::new("curl");
    c.args(["-sS", "-o", "/dev/null", "--cacert"])
        .arg(&s.ca)
        .args(["--resolve", &format!("api.openai.com:{port}:127.0.0.1")])
        .args(["-H", &format!("Authorization: Bearer {KEY}")])
        .args(["-H", "content-type: application/json"])
        .args(["-d", &body.to_string()])
        .arg(format!("https://api.openai.com:{port}/v1/chat/completions"));
    let curl = s.client("hooked curl", c);
    let evs = s.stop();
    let of = |t: &str| -> Vec<&Value> {
        evs.iter()
            .filter(|e| e["event_type"] == t && e["process"]["pid"] == curl)
            .collect()
    };
    assert_eq!(of("ai.request").len(), 1, "the call is decoded");
    assert_eq!(of("ai.response").len(), 1, "the call is decoded");
    assert!(
        of("network.flow").is_empty(),
        "a decoded connection is not estimated: {:#?}",
        of("network.flow")
    );
}
