//! Round-trip and robustness tests of the raw capture format.

use oisp_capture::*;

fn ts(n: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_700_000_000_000_000_000 + n,
        mono_ns: n,
    }
}

fn sample_records() -> Vec<RawRecord> {
    vec![
        RawRecord::ProcessExec(ProcessExec {
            ts: ts(1),
            pid: 42,
            ppid: 1,
            uid: 1000,
            gid: 1000,
            comm: "python3".into(),
            exe: "/usr/bin/python3.11".into(),
            args: vec!["python3".into(), "agent.py".into(), "--ünïcode".into()],
            cwd: Some("/home/a".into()),
            cgroup: None,
            snapshot: false,
        }),
        RawRecord::ProcessExec(ProcessExec {
            ts: ts(0),
            pid: 41,
            ppid: 1,
            uid: 0,
            gid: 0,
            comm: "bash".into(),
            exe: "/usr/bin/bash".into(),
            args: vec!["bash".into()],
            cwd: Some("/".into()),
            cgroup: Some("/user.slice".into()),
            snapshot: true,
        }),
        RawRecord::ConnOpen(ConnOpen {
            conn_id: 7,
            ts: ts(2),
            pid: 42,
            tid: 43,
            role: ConnRole::Client,
            source: DataSource::OpenSsl,
            local: Some("127.0.0.1:50000".parse().unwrap()),
            remote: Some("[2001:db8::1]:443".parse().unwrap()),
            sni: Some("api.openai.com".into()),
            alpn: None,
        }),
        RawRecord::Data(DataChunk {
            conn_id: 7,
            direction: Direction::Egress,
            seq: 0,
            ts: ts(3),
            pid: 42,
            tid: 43,
            source: DataSource::OpenSsl,
            truncated_len: 0,
            bytes: b"POST /v1/chat/completions HTTP/1.1\r\n\r\n".to_vec(),
        }),
        RawRecord::Data(DataChunk {
            conn_id: 7,
            direction: Direction::Ingress,
            seq: 0,
            ts: ts(4),
            pid: 42,
            tid: 43,
            source: DataSource::OpenSslStatic,
            truncated_len: 5,
            bytes: vec![0, 255, 13, 10],
        }),
        RawRecord::ConnClose(ConnClose {
            conn_id: 7,
            ts: ts(5),
            pid: 42,
        }),
        RawRecord::ProcessFork(ProcessFork {
            ts: ts(6),
            parent_pid: 42,
            child_pid: 44,
        }),
        RawRecord::File(FileOp {
            ts: ts(7),
            pid: 44,
            tid: 44,
            kind: FileOpKind::Rename,
            path: "/tmp/a".into(),
            new_path: Some("/tmp/b".into()),
            flags: None,
            bytes: Some(12),
            result: Some(-2),
        }),
        RawRecord::NetConnect(NetConnect {
            ts: ts(8),
            pid: 44,
            tid: 44,
            fd: Some(3),
            transport: Transport::Tcp,
            local: None,
            remote: "10.0.0.1:11434".parse().unwrap(),
            result: Some(0),
        }),
        RawRecord::ProcessExit(ProcessExit {
            ts: ts(9),
            pid: 44,
            exit_code: 1,
            signal: Some(9),
        }),
        RawRecord::Lost(Lost {
            ts: ts(10),
            origin: "tls_ring".into(),
            count: 3,
        }),
        RawRecord::FlowActivity(FlowActivity {
            conn_id: 9,
            ts: ts(11),
            pid: 44,
            direction: Direction::Ingress,
            bytes: 16_413,
        }),
        RawRecord::FlowActivity(FlowActivity {
            conn_id: 9,
            ts: ts(12),
            pid: 44,
            direction: Direction::Egress,
            bytes: 0,
        }),
        RawRecord::DnsMessage(DnsMessage {
            ts: ts(13),
            pid: 44,
            tid: 45,
            server: Some("127.0.0.53:53".parse().unwrap()),
            bytes: vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1],
        }),
        RawRecord::DnsMessage(DnsMessage {
            ts: ts(14),
            pid: 44,
            tid: 45,
            server: None,
            bytes: Vec::new(),
        }),
    ]
}

fn encode_all(recs: &[RawRecord]) -> Vec<u8> {
    let mut w = RawWriter::new(Vec::new(), r#"{"note":"test"}"#).unwrap();
    for r in recs {
        w.write(r).unwrap();
    }
    w.into_inner().unwrap()
}

#[test]
fn every_record_kind_round_trips() {
    let recs = sample_records();
    let bytes = encode_all(&recs);
    let reader = RawReader::new(&bytes[..]).unwrap();
    assert_eq!(reader.meta(), r#"{"note":"test"}"#);
    let back: Vec<RawRecord> = reader.map(|r| r.unwrap()).collect();
    assert_eq!(back, recs);
}

#[test]
fn truncation_at_every_byte_keeps_the_complete_prefix() {
    let recs = sample_records();
    let bytes = encode_all(&recs);
    let header_len = 16 + r#"{"note":"test"}"#.len();
    for cut in 0..bytes.len() {
        let (got, err) = read_all(&bytes[..cut]);
        if cut < header_len {
            assert!(err.is_some(), "cut {cut}: header cut must be an error");
            continue;
        }
        assert!(got.len() <= recs.len());
        assert_eq!(&recs[..got.len()], &got[..], "cut {cut}: prefix must match");
        if got.len() < recs.len() {
            // Either cleanly between records (no error, fewer records) or a truncation error.
            if let Some(e) = err {
                assert!(matches!(e, RawError::Truncated { .. }), "cut {cut}: {e}");
            }
        }
    }
}

#[test]
fn unknown_tags_are_skipped_and_counted() {
    let mut bytes = encode_all(&sample_records()[..1]);
    bytes.extend_from_slice(&[200, 3, 0, 0, 0, 1, 2, 3]);
    bytes.extend_from_slice(&encode_all(&sample_records()[1..2])[16 + 15..]);
    let mut reader = RawReader::new(&bytes[..]).unwrap();
    let got: Vec<_> = (&mut reader).map(|r| r.unwrap()).collect();
    assert_eq!(got.len(), 2);
    assert_eq!(reader.skipped_unknown(), 1);
}

#[test]
fn bad_magic_and_version_are_clear_errors() {
    assert!(matches!(
        RawReader::new(&b"GIF89a.........."[..]),
        Err(RawError::BadMagic)
    ));
    let mut bytes = encode_all(&[]);
    bytes[8] = 9;
    assert!(matches!(
        RawReader::new(&bytes[..]),
        Err(RawError::UnsupportedVersion(9))
    ));
}

#[test]
fn malformed_bodies_are_errors_not_panics() {
    // Deterministic byte soup after a valid header.
    let mut state = 0x2545F4914F6CDD1Du64;
    for round in 0..2000 {
        let mut bytes = encode_all(&[]);
        let n = (round % 97) + 1;
        for _ in 0..n {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.push(state as u8);
        }
        // Small lengths so bodies are actually parsed.
        if bytes.len() > 17 {
            let i = 16 + 15 + 1;
            if i + 4 <= bytes.len() {
                bytes[i + 1] = 0;
                bytes[i + 2] = 0;
                bytes[i + 3] = 0;
            }
        }
        let _ = read_all(&bytes);
    }
}

#[test]
fn oversized_data_is_split_with_contiguous_seq() {
    let big = vec![7u8; (MAX_BODY_LEN as usize) + 1000];
    let rec = RawRecord::Data(DataChunk {
        conn_id: 1,
        direction: Direction::Egress,
        seq: 10,
        ts: ts(0),
        pid: 1,
        tid: 1,
        source: DataSource::OpenSsl,
        truncated_len: 3,
        bytes: big,
    });
    let bytes = encode_all(&[rec]);
    let (got, err) = read_all(&bytes);
    assert!(err.is_none());
    assert_eq!(got.len(), 2);
    let (a, b) = match (&got[0], &got[1]) {
        (RawRecord::Data(a), RawRecord::Data(b)) => (a, b),
        _ => panic!("expected data"),
    };
    assert_eq!(a.seq, 10);
    assert_eq!(b.seq, 10 + a.bytes.len() as u64);
    assert_eq!(
        a.bytes.len() + b.bytes.len(),
        (MAX_BODY_LEN as usize) + 1000
    );
    assert_eq!((a.truncated_len, b.truncated_len), (0, 3));
}

/// Every record source survives the round trip (each has its own code in the format).
#[test]
fn every_data_source_round_trips() {
    let sources = [
        DataSource::OpenSsl,
        DataSource::OpenSslStatic,
        DataSource::BoringSsl,
        DataSource::GnuTls,
        DataSource::GoTls,
        DataSource::Rustls,
        DataSource::Nss,
        DataSource::Socket,
        DataSource::ClientHello,
        DataSource::Proxy,
        DataSource::MockRecorder,
        DataSource::Unknown,
    ];
    let recs: Vec<RawRecord> = sources
        .iter()
        .enumerate()
        .map(|(i, &source)| {
            RawRecord::Data(DataChunk {
                conn_id: i as u64,
                direction: Direction::Egress,
                seq: 0,
                ts: ts(i as u64),
                pid: 42,
                tid: 42,
                source,
                truncated_len: 0,
                bytes: b"x".to_vec(),
            })
        })
        .collect();
    let bytes = encode_all(&recs);
    let back: Vec<RawRecord> = RawReader::new(&bytes[..])
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(back, recs);
}
