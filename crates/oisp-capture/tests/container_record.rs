//! The container record (tag 11): round trip, every truncation, a forged label count.

use oisp_capture::*;

fn ts(n: u64) -> Timestamp {
    Timestamp {
        wall_ns: 1_700_000_000_000_000_000 + n,
        mono_ns: n,
    }
}

fn full() -> RawRecord {
    RawRecord::Container(ContainerInfo {
        ts: ts(1),
        cgroup: format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b6c2c1e_5a7d_4b8e_9f3a_2d1c0e9b8a76.slice/cri-containerd-{}.scope",
            "ab".repeat(32)
        ),
        id: "ab".repeat(32),
        runtime: Some("containerd".into()),
        name: Some("agent".into()),
        image: Some("registry.example/agent:1.4".into()),
        pod_uid: Some("0b6c2c1e-5a7d-4b8e-9f3a-2d1c0e9b8a76".into()),
        pod_name: Some("agent-7d9f8-xk2lp".into()),
        namespace: Some("ml".into()),
        labels: vec![("app".into(), "agent".into()), ("tier".into(), "ünï".into())],
    })
}

fn minimal() -> RawRecord {
    RawRecord::Container(ContainerInfo {
        ts: ts(2),
        cgroup: format!("/docker/{}", "0".repeat(64)),
        id: "0".repeat(64),
        runtime: None,
        name: None,
        image: None,
        pod_uid: None,
        pod_name: None,
        namespace: None,
        labels: Vec::new(),
    })
}

fn encode(recs: &[RawRecord]) -> Vec<u8> {
    let mut w = RawWriter::new(Vec::new(), "{}").unwrap();
    for r in recs {
        w.write(r).unwrap();
    }
    w.into_inner().unwrap()
}

#[test]
fn container_records_round_trip() {
    let recs = vec![full(), minimal()];
    let (back, err) = read_all(&encode(&recs));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(back, recs);
    assert_eq!(back[0].ts(), ts(1));
}

#[test]
fn a_cut_container_record_is_reported_and_the_prefix_kept() {
    let bytes = encode(&[minimal(), full()]);
    let first_end = encode(&[minimal()]).len();
    for cut in first_end..bytes.len() {
        let (back, err) = read_all(&bytes[..cut]);
        assert_eq!(back, vec![minimal()], "cut at {cut}");
        assert_eq!(err.is_some(), cut > first_end, "cut at {cut}");
    }
}

#[test]
fn a_forged_label_count_is_an_error_not_an_allocation() {
    let bytes = encode(&[minimal()]);
    // The label count is the body's last field: claim four billion pairs.
    let mut forged = bytes.clone();
    let n = forged.len();
    forged[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    let (back, err) = read_all(&forged);
    assert!(back.is_empty());
    assert!(err.is_some());
}
