//! Fully populated `process.*`, `file.*`, `network.*` and `sensor.warning`
//! payloads, plus the list of one full value per [`EventData`] variant.

use super::fixtures_ai as ai;
use oisp_event::*;
use serde_json::{json, Map};
use std::collections::BTreeMap;

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

pub fn process_exec() -> ProcessExec {
    ProcessExec {
        exe: "/usr/bin/python3".to_owned(),
        args: Some(vec!["python3".to_owned(), "main.py".to_owned()]),
        cwd: s("/home/alice"),
        env: Some(BTreeMap::from([(
            "NODE_ENV".to_owned(),
            "production".to_owned(),
        )])),
        interpreter: s("/usr/bin/python3"),
        script_path: s("/home/alice/main.py"),
        is_shell: Some(false),
        is_script: Some(true),
        is_interactive: Some(false),
        binary_hash: Some(BinaryHash {
            sha256: Some("0".repeat(64)),
            sha1: Some("1".repeat(40)),
            md5: Some("2".repeat(32)),
        }),
        code_signature: Some(CodeSignature {
            signed: Some(false),
            valid: Some(false),
            signer: s("none"),
            team_id: s("none"),
            notarized: Some(false),
        }),
        extra: Map::new(),
    }
}

pub fn process_exit() -> ProcessExit {
    ProcessExit {
        exit_code: -1,
        signal: Some(9),
        signal_name: s("SIGKILL"),
        runtime_ms: Some(5000),
        cpu_user_ms: Some(120),
        cpu_system_ms: Some(30),
        max_rss_kb: Some(65536),
        termination_type: Some(TerminationType::Signaled),
        extra: Map::new(),
    }
}

pub fn process_fork() -> ProcessFork {
    ProcessFork {
        child_pid: 12346,
        clone_flags: Some(0x0111_1000),
        is_thread: Some(false),
        extra: Map::new(),
    }
}

pub fn file_info() -> FileInfo {
    FileInfo {
        path: s("/home/alice/out.py"),
        name: s("out.py"),
        extension: s("py"),
        size: Some(4523),
        inode: Some(998877),
        mode: s("0644"),
        uid: Some(1000),
        gid: Some(1000),
        mtime: Some(format_ts(1_766_434_500_000_000_000)),
        ctime: Some(format_ts(1_766_434_500_000_000_000)),
        is_directory: Some(false),
        is_symlink: Some(false),
        symlink_target: s("/dev/null"),
        hash: Some(FileHash {
            sha256: s("sha256-hex"),
            sha1: s("sha1-hex"),
            md5: s("md5-hex"),
        }),
    }
}

pub fn file_open() -> FileOpen {
    FileOpen {
        path: "/home/alice/out.py".to_owned(),
        flags: OpenFlag::ALL.to_vec(),
        fd: Some(3),
        file: Some(file_info()),
        extra: Map::new(),
    }
}

pub fn file_read() -> FileRead {
    FileRead {
        path: "/home/alice/out.py".to_owned(),
        bytes_read: Some(100),
        offset: Some(0),
        complete: Some(true),
        file: Some(file_info()),
        content_hash: s("sha256:r"),
        content_preview: s("import os"),
        extra: Map::new(),
    }
}

pub fn file_write() -> FileWrite {
    FileWrite {
        path: "/home/alice/out.py".to_owned(),
        bytes_written: Some(4523),
        offset: Some(0),
        truncated: Some(true),
        created: Some(true),
        file: Some(file_info()),
        content_hash: s("sha256:w"),
        content_preview: s("import sys"),
        detected_type: s("source_code"),
        extra: Map::new(),
    }
}

pub fn file_delete() -> FileDelete {
    FileDelete {
        path: "/tmp/x".to_owned(),
        file: Some(file_info()),
        recursive: Some(false),
        extra: Map::new(),
    }
}

pub fn file_rename() -> FileRename {
    FileRename {
        old_path: "/tmp/a".to_owned(),
        new_path: "/tmp/b".to_owned(),
        overwrote: Some(false),
        file: Some(file_info()),
        extra: Map::new(),
    }
}

pub fn endpoint(ip: &str, port: u16) -> Endpoint {
    Endpoint {
        ip: s(ip),
        port: Some(port),
        domain: s("api.openai.com"),
        is_private: Some(false),
        geo: Some(Geo {
            country: s("US"),
            region: s("CA"),
            city: s("San Francisco"),
            asn: Some(13335),
            org: s("Cloudflare"),
        }),
    }
}

pub fn tls() -> TlsInfo {
    TlsInfo {
        version: s("TLSv1.3"),
        cipher_suite: s("TLS_AES_128_GCM_SHA256"),
        sni: s("api.openai.com"),
        alpn: s("h2"),
        certificate: Some(Certificate {
            subject: s("CN=api.openai.com"),
            issuer: s("CN=Example CA"),
            not_before: Some(format_ts(1_700_000_000_000_000_000)),
            not_after: Some(format_ts(1_800_000_000_000_000_000)),
            fingerprint_sha256: s("ab:cd"),
            san: Some(vec!["api.openai.com".to_owned()]),
        }),
        ja3_fingerprint: s("ja3"),
        ja3s_fingerprint: s("ja3s"),
    }
}

pub fn network_connect() -> NetworkConnect {
    NetworkConnect {
        dest: endpoint("104.18.7.192", 443),
        src: Some(endpoint("192.168.1.100", 54321)),
        protocol: Some(Protocol::Tcp),
        success: Some(true),
        error: s("none"),
        latency_ms: Some(45.2),
        tls: Some(tls()),
        extra: Map::new(),
    }
}

pub fn network_accept() -> NetworkAccept {
    NetworkAccept {
        src: endpoint("10.0.0.2", 40000),
        dest: Some(endpoint("10.0.0.1", 8080)),
        protocol: Some(Protocol::Tcp),
        extra: Map::new(),
    }
}

pub fn network_flow() -> NetworkFlow {
    NetworkFlow {
        dest: endpoint("104.18.7.192", 443),
        src: Some(endpoint("192.168.1.100", 54321)),
        protocol: Some(Protocol::Tcp),
        direction: Some(Direction::Outbound),
        bytes_sent: Some(1000),
        bytes_received: Some(20000),
        packets_sent: Some(10),
        packets_received: Some(20),
        duration_ms: Some(2222),
        start_time: Some(format_ts(1_766_434_505_000_000_000)),
        end_time: Some(format_ts(1_766_434_507_222_000_000)),
        tls: Some(tls()),
        http: Some(HttpInfo {
            method: s("POST"),
            path: s("/v1/chat/completions"),
            status_code: Some(200),
            host: s("api.openai.com"),
            user_agent: s("OpenAI/Python 1.0"),
            content_type: s("application/json"),
            content_length: Some(1234),
            request_headers: Some(BTreeMap::from([(
                "content-type".to_owned(),
                "application/json".to_owned(),
            )])),
            response_headers: Some(BTreeMap::from([(
                "x-request-id".to_owned(),
                "req_abc".to_owned(),
            )])),
        }),
        extra: Map::new(),
    }
}

pub fn network_dns() -> NetworkDns {
    NetworkDns {
        response_code: Some(DnsResponseCode::NoError),
        answers: Some(vec![DnsAnswer {
            kind: s("A"),
            value: s("104.18.7.192"),
            ttl: Some(300),
        }]),
        resolver: s("127.0.0.53"),
        latency_ms: Some(1.5),
        ..NetworkDns::new("api.openai.com", DnsQueryType::A)
    }
}

pub fn sensor_warning() -> SensorWarning {
    SensorWarning::new("http_parse_error", "invalid chunk size")
        .with_conn_id(7)
        .with_detail("offset", json!(1234))
}

/// One fully populated payload per [`EventData`] variant (except
/// `Unknown`), in [`EventData::KNOWN_TYPES`] order.
pub fn all_payloads() -> Vec<EventData> {
    vec![
        ai::ai_request().into(),
        ai::ai_response().into(),
        ai::ai_streaming_chunk().into(),
        ai::ai_embedding().into(),
        ai::agent_tool_call().into(),
        ai::agent_tool_result().into(),
        ai::agent_plan_step().into(),
        ai::agent_rag_retrieve().into(),
        ai::agent_session().into(),
        process_exec().into(),
        process_exit().into(),
        process_fork().into(),
        file_open().into(),
        file_read().into(),
        file_write().into(),
        file_delete().into(),
        file_rename().into(),
        network_connect().into(),
        network_accept().into(),
        network_flow().into(),
        network_dns().into(),
        sensor_warning().into(),
    ]
}
