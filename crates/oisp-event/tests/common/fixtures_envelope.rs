//! A fully populated envelope (every schema property set).

use oisp_event::*;
use serde_json::{json, Map};
use std::collections::BTreeMap;

pub const WALL_NS: u64 = 1_766_434_505_123_456_789;
pub const MONO_NS: u64 = 987_654_321;

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

pub fn full_host() -> Host {
    Host {
        hostname: s("dev-laptop"),
        device_id: s("550e8400-e29b-41d4-a716-446655440000"),
        os: Some(Os::Linux),
        os_version: s("Ubuntu 24.04"),
        arch: Some(Arch::X86_64),
        kernel_version: s("6.8.0-45-generic"),
        cloud: Some(Cloud {
            provider: Some(CloudProvider::Aws),
            region: s("us-east-1"),
            instance_id: s("i-0abc"),
            instance_type: s("t3.medium"),
        }),
        container: Some(Container {
            id: s("abc123"),
            name: s("agent"),
            image: s("python:3.11-slim"),
            runtime: Some(ContainerRuntime::Containerd),
        }),
        k8s: Some(K8s {
            cluster_name: s("prod"),
            namespace: s("ai"),
            pod_name: s("agent-0"),
            pod_uid: s("uid-1"),
            node_name: s("node-1"),
            deployment: s("agent"),
            service_account: s("agent-sa"),
            labels: Some(BTreeMap::from([("app".to_owned(), "agent".to_owned())])),
        }),
        managed: Some(true),
        tags: Some(vec!["production".to_owned()]),
        extra: Map::new(),
    }
}

pub fn full_actor() -> Actor {
    Actor {
        uid: Some(1000),
        gid: Some(1000),
        user: s("alice"),
        groups: Some(vec!["staff".to_owned()]),
        session_id: s("3"),
        terminal: s("pts/0"),
        identity: Some(Identity {
            provider: Some(IdentityProvider::Okta),
            email: s("alice@example.com"),
            upn: s("alice@example.com"),
            employee_id: s("E42"),
            department: s("Engineering"),
            job_title: s("Engineer"),
            manager: s("bob@example.com"),
        }),
        service_account: Some(ServiceAccount {
            name: s("agent-sa"),
            kind: Some(ServiceAccountType::Kubernetes),
            owner: s("platform"),
        }),
        auth_method: Some(AuthMethod::SshKey),
        is_elevated: Some(false),
        is_human: Some(true),
        extra: Map::new(),
    }
}

pub fn full_process() -> ProcessInfo {
    ProcessInfo {
        pid: Some(12345),
        ppid: Some(1234),
        pgid: Some(12345),
        sid: Some(1200),
        exe: s("/usr/bin/python3"),
        name: s("python3"),
        cmdline: s("python3 agent.py"),
        cmdline_args: Some(vec!["python3".to_owned(), "agent.py".to_owned()]),
        cwd: s("/home/alice"),
        env: Some(BTreeMap::from([(
            "OPENAI_API_KEY".to_owned(),
            "[REDACTED]".to_owned(),
        )])),
        start_time: Some(format_ts(WALL_NS - 5_000_000_000)),
        bundle_id: s("org.python.python"),
        code_signature: Some(CodeSignature {
            signed: Some(true),
            valid: Some(true),
            signer: s("Python Software Foundation"),
            team_id: s("DJ3H93M7VJ"),
            notarized: Some(true),
        }),
        hash: Some(BinaryHash {
            sha256: Some("a".repeat(64)),
            sha1: Some("b".repeat(40)),
            md5: Some("c".repeat(32)),
        }),
        parent: Some(ParentProcess {
            pid: Some(1234),
            exe: s("/bin/zsh"),
            name: s("zsh"),
            cmdline: s("-zsh"),
        }),
        ancestors: Some(vec![AncestorProcess {
            pid: Some(1),
            exe: s("/sbin/init"),
            name: s("init"),
        }]),
        thread_id: Some(12346),
        capabilities: Some(vec!["CAP_NET_ADMIN".to_owned()]),
        container_id: s("abc123"),
        cgroup: s("/system.slice/agent.service"),
        extra: Map::new(),
    }
}

pub fn full_app() -> App {
    App {
        app_id: s("cursor"),
        name: s("Cursor"),
        vendor: s("Anysphere Inc."),
        version: s("0.42.3"),
        bundle_id: s("com.todesktop.230313mzl4w4u92"),
        category: Some(AppCategory::DevTools),
        tier: Some(AppTier::Profiled),
        is_ai_app: Some(true),
        is_ai_host: Some(false),
        kind: Some(AppType::Native),
        subscription: s("pro"),
        extra: Map::new(),
    }
}

pub fn full_web_context() -> WebContext {
    WebContext {
        origin: s("https://chat.openai.com"),
        referer: s("https://chat.openai.com/c/abc123"),
        user_agent: s("Mozilla/5.0"),
        web_app_id: s("chatgpt-web"),
        web_app_name: s("ChatGPT"),
        web_app_type: Some(WebAppType::Direct),
        extra: Map::new(),
    }
}

pub fn full_confidence() -> Confidence {
    let mut c = Confidence::new(ConfidenceLevel::High, Completeness::Full)
        .with_reason("tls_boundary_capture")
        .with_missing("response_headers")
        .with_limitation("timing_approximate");
    c.process_attribution = Some(ProcessAttribution::Direct);
    c.content_source = Some(ContentSource::TlsBoundary);
    c.ai_detection_method = Some(AiDetectionMethod::KnownEndpoint);
    c.sample_rate = Some(1.0);
    c.redaction_applied = Some(true);
    c.redaction_profile = s("default_safe");
    c
}

/// `data` wrapped in an envelope with every schema property populated.
pub fn full_envelope(data: impl Into<EventData>) -> Event {
    let data = data.into();
    let seed = format!("fixture/{}", data.event_type());
    let mut source = Source::sensor()
        .with_capture_method(CaptureMethod::EbpfUprobe)
        .with_capture_point("SSL_write");
    source.sensor_host = s("sensor-1");
    Event::new(
        data,
        Timestamp::new(WALL_NS, MONO_NS),
        event_id_from(WALL_NS, seed.as_bytes()),
    )
    .with_host(full_host())
    .with_actor(full_actor())
    .with_process(full_process())
    .with_app(full_app())
    .with_web_context(full_web_context())
    .with_source(source)
    .with_confidence(full_confidence())
    .with_attr("local_model", false)
    .with_ext("oisp_sensor.capture", json!({"conn_id": 7}))
    .with_related(
        event_id_from(WALL_NS - 1_000_000, b"parent"),
        Relationship::CausedBy,
    )
    .with_trace_context(TraceContext {
        trace_id: Some("0af7651916cd43dd8448eb211c80319c".to_owned()),
        span_id: Some("b7ad6b7169203331".to_owned()),
        trace_flags: Some(1),
        parent_span_id: None,
    })
}
