//! Root end-to-end tests of the NSS stack: Debian's `tstclnt` (NSS's test TLS client, package
//! `libnss3-tools`) POSTs an OpenAI chat completion to the mock provider over HTTPS under
//! `oisp-sensor record`. The capture must hold exactly one complete call of tstclnt's pid (prompt,
//! reply, model, usage, destination, SNI), read by the NSS probes (libnspr4's `PR_*` and libssl3's
//! `SSL_ImportFD`, listed in record's state; `status` says NSS, by symbol); and the reply tstclnt
//! writes to a file with `PR_Write` (its standard output) is not captured as TLS: the raw capture
//! holds one NSS connection for that pid, whose bytes are exactly the request sent and the reply
//! received. A second run makes two connections in one process (one call each).

mod e2e;
mod root;

use e2e::*;
use oisp_capture::{DataSource, Direction, RawRecord};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const TSTCLNT: &str = "/usr/bin/tstclnt";

/// The probes `record`'s state file lists on files whose path contains `lib`.
fn probes_on(state: &Value, lib: &str) -> Vec<String> {
    state["probes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| p["path"].as_str().unwrap_or_default().contains(lib))
                .filter_map(|p| p["symbol"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `record`'s state file, once it has been published (every second while it runs; allow for a
/// busy machine).
fn read_state(tmp: &Path) -> Value {
    let state_file = tmp.join("state.json");
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(&state_file) {
            if let Ok(v) = serde_json::from_str(&text) {
                return v;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "record's state file {} never appeared",
        state_file.display()
    );
}

/// A session for `name` writing a raw capture too (its path returned), when the test can run.
fn start(name: &'static str) -> Option<(Session, PathBuf)> {
    if !Path::new(TSTCLNT).exists() {
        eprintln!("skipped: no {TSTCLNT} (apt-get install libnss3-tools)");
        return None;
    }
    let raw = std::env::temp_dir().join(format!("oisp-e2e-{name}-{}.oraw", std::process::id()));
    let raw_arg = raw.to_string_lossy().into_owned();
    let s = Session::start_with(name, &["--raw-out", &raw_arg])?;
    Some((s, raw))
}

/// One tstclnt run: it POSTs a chat completion with `prompt` over each of `connections`
/// connections (`-L`), reading the request file (-A) and writing what it receives to standard
/// output — a file here — both with NSPR's PR_Read/PR_Write. -D: no certificate database; -o: the
/// mock's certificate accepted (this test is about the capture, not trust). Returns the pid, the
/// request sent on each connection and everything tstclnt printed.
fn run_tstclnt(s: &Session, prompt: &str, connections: u32) -> (u32, String, String) {
    let port = s
        .base()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .expect("mock port");
    let body =
        format!(r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"{prompt}"}}]}}"#);
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost:{port}\r\n\
         Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let req_file = s.tmp.join("request.http");
    std::fs::write(&req_file, &request).unwrap();
    let out_file = s.tmp.join("reply.out");
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!(
            "exec {TSTCLNT} -h localhost -p {port} -D -o -L {connections} -A \"$1\" > \"$2\""
        ))
        .arg("tstclnt")
        .arg(&req_file)
        .arg(&out_file);
    let pid = s.client("tstclnt", c);
    let reply = std::fs::read_to_string(&out_file).unwrap_or_default();
    assert_eq!(
        reply.matches("This is a mock reply").count(),
        connections as usize,
        "tstclnt's replies: {reply:?}"
    );
    (pid, request, reply)
}

/// What each call of tstclnt must look like.
fn expect(prompt: &str) -> Expect<'_> {
    Expect {
        client: "tstclnt",
        exe: TSTCLNT,
        cmdline: "tstclnt",
        model: "gpt-4o-mini",
        prompt: Some(prompt),
        reply: Some("This is a mock reply"),
        stream: false,
        path: "/v1/chat/completions",
    }
}

#[test]
fn tstclnt_nss_chat() {
    let Some((mut s, raw)) = start("tstclnt_nss_chat") else {
        return;
    };
    let prompt = "Hello from tstclnt over NSS";
    let (pid, request, reply) = run_tstclnt(&s, prompt, 1);

    let state = read_state(&s.tmp);
    let nspr = probes_on(&state, "libnspr4.so");
    for want in ["PR_Write", "PR_Send", "PR_Read", "PR_Recv", "PR_Close"] {
        assert!(
            nspr.iter().any(|p| p == want),
            "no {want} probe on libnspr4: {nspr:?}"
        );
    }
    let ssl3 = probes_on(&state, "libssl3.so");
    for want in ["SSL_ImportFD", "SSL_SetURL"] {
        assert!(
            ssl3.iter().any(|p| p == want),
            "no {want} probe on libssl3: {ssl3:?}"
        );
    }
    let status = s.status();
    assert!(
        status.lines().any(|l| l.contains(&format!("pid {pid} "))
            && l.contains("via NSS (shared libssl3 over libnspr4), located by symbol")
            && l.ends_with("full content")),
        "status does not show pid {pid} covered via NSS by symbol:\n{status}"
    );

    let evs = s.stop();
    s.check_calls(&evs, pid, 1, &expect(prompt));

    // The raw capture: one NSS connection of tstclnt, carrying exactly the request it sent and
    // the reply it received; the reply's copy written to the file is not in it.
    let bytes = std::fs::read(&raw).expect("raw capture");
    let _ = std::fs::remove_file(&raw);
    let (records, err) = oisp_capture::read_all(&bytes);
    assert!(err.is_none(), "raw capture: {err:?}");
    let data: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            RawRecord::Data(d) if d.pid == pid => Some(d),
            _ => None,
        })
        .collect();
    assert!(
        data.iter().all(|d| d.source == DataSource::Nss),
        "data of pid {pid} from another source: {:?}",
        data.iter().map(|d| d.source).collect::<Vec<_>>()
    );
    let mut conns: Vec<u64> = data.iter().map(|d| d.conn_id).collect();
    conns.sort_unstable();
    conns.dedup();
    assert_eq!(conns.len(), 1, "NSS connections of pid {pid}: {conns:?}");
    let stream = |dir: Direction| -> Vec<u8> {
        data.iter()
            .filter(|d| d.direction == dir)
            .flat_map(|d| d.bytes.iter().copied())
            .collect()
    };
    assert_eq!(
        String::from_utf8_lossy(&stream(Direction::Egress)),
        request,
        "egress bytes are not the request"
    );
    let ingress = stream(Direction::Ingress);
    assert_eq!(
        String::from_utf8_lossy(&ingress),
        reply,
        "ingress bytes are not the reply tstclnt printed"
    );
    let open = records.iter().find_map(|r| match r {
        RawRecord::ConnOpen(o) if o.conn_id == conns[0] => Some(o),
        _ => None,
    });
    let open = open.expect("ConnOpen of the NSS connection");
    assert_eq!(open.sni.as_deref(), Some("localhost"), "{open:?}");
    assert!(
        records
            .iter()
            .any(|r| matches!(r, RawRecord::ConnClose(c) if c.conn_id == conns[0])),
        "no ConnClose of the NSS connection (PR_Close)"
    );
}

/// Two connections one after the other in one process (`-L 2`, the second resuming the TLS
/// session): the first PR_Close ends the first session, so each connection is one call, even
/// where the second descriptor has the first one's address.
#[test]
fn tstclnt_nss_two_connections() {
    let Some((mut s, raw)) = start("tstclnt_nss_two_connections") else {
        return;
    };
    let prompt = "Two NSS connections from tstclnt";
    let (pid, request, _) = run_tstclnt(&s, prompt, 2);
    let evs = s.stop();
    s.check_calls(&evs, pid, 2, &expect(prompt));
    let bytes = std::fs::read(&raw).expect("raw capture");
    let _ = std::fs::remove_file(&raw);
    let (records, err) = oisp_capture::read_all(&bytes);
    assert!(err.is_none(), "raw capture: {err:?}");
    let mut egress: Vec<(u64, Vec<u8>)> = Vec::new();
    for r in &records {
        if let RawRecord::Data(d) = r {
            if d.pid == pid && d.direction == Direction::Egress {
                match egress.iter_mut().find(|(c, _)| *c == d.conn_id) {
                    Some((_, b)) => b.extend_from_slice(&d.bytes),
                    None => egress.push((d.conn_id, d.bytes.clone())),
                }
            }
        }
    }
    assert_eq!(egress.len(), 2, "NSS connections of pid {pid}");
    for (conn, sent) in &egress {
        assert_eq!(
            String::from_utf8_lossy(sent),
            request,
            "egress of connection {conn}"
        );
    }
}
