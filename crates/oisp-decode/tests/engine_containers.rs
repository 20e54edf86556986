//! Every event of a process in a container carries `host.container` (and `host.k8s` for a pod's
//! container), learnt from the capture's `Container` record by the process's cgroup: process,
//! file, network and AI events alike; processes elsewhere carry no `host`.

use oisp_capture::*;
use oisp_decode::Decoder;
use oisp_event::{ContainerRuntime, Event};

const ID: &str = "b23c08d5b2bf98f1e7f32bbc0c539838eea4a9ac673a9098de56f409d30b3607";

fn ts(ms: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_800_000_000_000_000_000 + ms * 1_000_000,
        mono_ns: ms * 1_000_000,
    }
}

fn exec(ms: u64, pid: u32, exe: &str, cgroup: &str) -> RawRecord {
    RawRecord::ProcessExec(ProcessExec {
        ts: ts(ms),
        pid,
        ppid: 1,
        uid: 0,
        gid: 0,
        comm: exe.rsplit('/').next().unwrap().into(),
        exe: exe.into(),
        args: vec![exe.into()],
        cwd: Some("/".into()),
        cgroup: Some(cgroup.into()),
        snapshot: false,
    })
}

fn container(cgroup: &str) -> RawRecord {
    RawRecord::Container(ContainerInfo {
        ts: ts(0),
        cgroup: cgroup.into(),
        id: ID.into(),
        runtime: Some("containerd".into()),
        name: Some("agent".into()),
        image: Some("registry.example/ml/agent:1.4".into()),
        pod_uid: Some("0b6c2c1e-5a7d-4b8e-9f3a-2d1c0e9b8a76".into()),
        pod_name: Some("agent-7d9f8-xk2lp".into()),
        namespace: Some("ml".into()),
        labels: vec![("app".into(), "agent".into())],
    })
}

fn chat(pid: u32, ms: u64) -> Vec<RawRecord> {
    let req = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi from a pod\"}]}";
    let resp = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hello\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}";
    let data = |seq: u64, direction, bytes: String, at| {
        RawRecord::Data(DataChunk {
            conn_id: 1,
            direction,
            seq,
            ts: ts(at),
            pid,
            tid: pid,
            source: DataSource::OpenSsl,
            truncated_len: 0,
            bytes: bytes.into_bytes(),
        })
    };
    vec![
        RawRecord::ConnOpen(ConnOpen {
            conn_id: 1,
            ts: ts(ms),
            pid,
            tid: pid,
            role: ConnRole::Client,
            source: DataSource::OpenSsl,
            local: None,
            remote: Some("203.0.113.5:443".parse().unwrap()),
            sni: Some("api.openai.com".into()),
            alpn: None,
        }),
        data(
            0,
            Direction::Egress,
            format!(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{req}",
                req.len()
            ),
            ms + 1,
        ),
        data(
            0,
            Direction::Ingress,
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{resp}",
                resp.len()
            ),
            ms + 2,
        ),
        RawRecord::ConnClose(ConnClose {
            conn_id: 1,
            ts: ts(ms + 3),
            pid,
        }),
    ]
}

fn run(records: &[RawRecord]) -> Vec<Event> {
    let mut dec = Decoder::default();
    let mut out = Vec::new();
    for r in records {
        dec.push(r, &mut out);
    }
    dec.finish(&mut out);
    for ev in &out {
        oisp_event::schema::validate_event(ev).unwrap();
    }
    out
}

#[test]
fn events_of_a_pod_container_carry_container_and_pod() {
    let cg = format!(
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b6c2c1e_5a7d_4b8e_9f3a_2d1c0e9b8a76.slice/cri-containerd-{ID}.scope"
    );
    let mut records = vec![
        container(&cg),
        exec(1, 100, "/usr/bin/python3", &cg),
        RawRecord::ProcessFork(ProcessFork {
            ts: ts(2),
            parent_pid: 100,
            child_pid: 101,
        }),
        RawRecord::File(FileOp {
            ts: ts(3),
            pid: 101,
            tid: 101,
            kind: FileOpKind::Write,
            path: "/tmp/out.txt".into(),
            new_path: None,
            flags: None,
            bytes: Some(4),
            result: None,
        }),
        RawRecord::NetConnect(NetConnect {
            ts: ts(4),
            pid: 100,
            tid: 100,
            fd: Some(3),
            transport: Transport::Tcp,
            local: None,
            remote: "203.0.113.5:443".parse().unwrap(),
            result: Some(0),
        }),
    ];
    records.extend(chat(100, 10));
    records.push(exec(
        20,
        200,
        "/usr/bin/curl",
        "/user.slice/session-1.scope",
    ));
    let out = run(&records);
    let types: Vec<&str> = out.iter().map(|e| e.event_type()).collect();
    for t in [
        "process.exec",
        "process.fork",
        "file.write",
        "network.connect",
        "ai.request",
        "ai.response",
    ] {
        assert!(types.contains(&t), "no {t} in {types:?}");
    }
    for ev in &out {
        let pid = ev.process.as_ref().and_then(|p| p.pid);
        if pid == Some(200u32.into()) {
            assert!(ev.host.is_none(), "{ev:?}");
            continue;
        }
        let host = ev
            .host
            .as_ref()
            .unwrap_or_else(|| panic!("no host: {ev:?}"));
        let c = host.container.as_ref().unwrap();
        assert_eq!(c.id.as_deref(), Some(ID));
        assert_eq!(c.name.as_deref(), Some("agent"));
        assert_eq!(c.image.as_deref(), Some("registry.example/ml/agent:1.4"));
        assert_eq!(c.runtime, Some(ContainerRuntime::Containerd));
        let k = host.k8s.as_ref().unwrap();
        assert_eq!(k.pod_name.as_deref(), Some("agent-7d9f8-xk2lp"));
        assert_eq!(k.namespace.as_deref(), Some("ml"));
        assert_eq!(
            k.pod_uid.as_deref(),
            Some("0b6c2c1e-5a7d-4b8e-9f3a-2d1c0e9b8a76")
        );
        assert_eq!(k.labels.as_ref().unwrap()["app"], "agent");
        let json = serde_json::to_value(ev).unwrap();
        assert_eq!(json["host"]["container"]["runtime"], "containerd");
    }
    assert!(out
        .iter()
        .any(|e| e.process.as_ref().and_then(|p| p.pid) == Some(200u32.into())));
}

#[test]
fn a_container_record_alone_makes_no_event_and_replays_decode_the_same() {
    let cg = format!("/libpod_parent/libpod-{ID}");
    assert!(run(&[container(&cg)]).is_empty());
    let records = [container(&cg), exec(1, 7, "/usr/bin/curl", &cg)];
    let mut w = RawWriter::new(Vec::new(), "{}").unwrap();
    for r in &records {
        w.write(r).unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let (replayed, _, err) = oisp_decode::decode_capture(&bytes);
    assert!(err.is_none());
    let direct = run(&records);
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].host, direct[0].host);
    assert!(replayed[0].host.is_some());
}
