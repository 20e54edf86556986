//! Podman and CRI-O, which share containers/storage. Under each storage directory (graph root
//! `/var/lib/containers/storage`, run root `/run/containers/storage`) a `<driver>-containers/`
//! directory holds:
//! - `containers.json` and `volatile-containers.json` (containers made with `--rm` or in
//!   transient mode): a list of `{"id", "names": [...], "metadata": "<JSON text>"}`, whose
//!   metadata Podman fills with `name` and `image-name`;
//! - `<id>/userdata/config.json`: the OCI spec of the container, whose annotations say who made
//!   it (`io.container.manager: libpod` for Podman) and, for CRI-O, the Kubernetes side:
//!   `io.kubernetes.cri-o.Labels` (JSON text: `io.kubernetes.container.name`, `…pod.name`,
//!   `…pod.namespace`, `…pod.uid`), `…ImageName`, `…Metadata` (JSON text with the container's
//!   `name`), `…SandboxID` (the pod's infra container, whose own `Labels` are the pod's labels).

use crate::cgroup::{self, Runtime};
use crate::state::{self, Details};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The `<driver>-containers` directories of the storage directories.
fn container_dirs(storages: &[PathBuf]) -> Vec<PathBuf> {
    storages
        .iter()
        .flat_map(|s| {
            state::subdirs(s)
                .into_iter()
                .filter(|d| d.ends_with("-containers"))
                .map(move |d| s.join(d))
        })
        .collect()
}

/// The annotations of container `id`'s OCI spec in storage, if one is there.
fn annotations(dirs: &[PathBuf], id: &str) -> Option<BTreeMap<String, String>> {
    dirs.iter().find_map(|d| {
        let spec = state::read_json(&d.join(id).join("userdata").join("config.json"))?;
        Some(state::string_map(spec.get("annotations")))
    })
}

/// Container `id`'s entry in the storage's container lists.
fn entry(dirs: &[PathBuf], id: &str) -> Option<Value> {
    dirs.iter().find_map(|d| {
        ["containers.json", "volatile-containers.json"]
            .iter()
            .find_map(|f| {
                let list = state::read_json(&d.join(f))?;
                list.as_array()?
                    .iter()
                    .find(|c| c.get("id").and_then(Value::as_str) == Some(id))
                    .cloned()
            })
    })
}

/// Container `id`'s details and, when its spec says, who made it (Podman or CRI-O); `None`
/// when the storage knows nothing of it.
pub(crate) fn details(storages: &[PathBuf], id: &str) -> Option<(Details, Option<Runtime>)> {
    let dirs = container_dirs(storages);
    let ann = annotations(&dirs, id);
    let entry = entry(&dirs, id);
    if ann.is_none() && entry.is_none() {
        return None;
    }
    let ann = ann.unwrap_or_default();
    let runtime = if ann.get("io.container.manager").map(String::as_str) == Some("libpod") {
        Some(Runtime::Podman)
    } else if ann.keys().any(|k| k.starts_with("io.kubernetes.cri-o.")) {
        Some(Runtime::Crio)
    } else {
        None
    };
    let mut d = Details::default();
    if let Some(e) = &entry {
        let meta: Value = state::text(e, "metadata")
            .and_then(|m| serde_json::from_str(&m).ok())
            .unwrap_or_default();
        d.name = e
            .get("names")
            .and_then(Value::as_array)
            .and_then(|n| n.first())
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .or_else(|| state::text(&meta, "name"));
        d.image = state::text(&meta, "image-name");
    }
    if runtime == Some(Runtime::Crio) {
        crio(&mut d, &ann, &dirs);
    }
    Some((d, runtime))
}

/// CRI-O's annotations: names, image, pod, and the pod's labels from its infra container.
fn crio(d: &mut Details, ann: &BTreeMap<String, String>, dirs: &[PathBuf]) {
    let json = |k: &str| -> Value {
        ann.get(k)
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    };
    if let Some(n) = state::text(&json("io.kubernetes.cri-o.Metadata"), "name") {
        d.name = Some(n);
    }
    d.image = ann
        .get("io.kubernetes.cri-o.ImageName")
        .or_else(|| ann.get("io.kubernetes.cri-o.Image"))
        .filter(|v| !v.is_empty())
        .cloned()
        .or(d.image.take());
    let labels = state::string_map(Some(&json("io.kubernetes.cri-o.Labels")));
    state::take_kube_labels(d, labels);
    let sandbox = ann
        .get("io.kubernetes.cri-o.SandboxID")
        .filter(|s| cgroup::is_id(s));
    if let Some(pod) = sandbox.and_then(|s| annotations(dirs, s)) {
        let pod_labels = pod
            .get("io.kubernetes.cri-o.Labels")
            .and_then(|t| serde_json::from_str::<Value>(t).ok());
        let mut from_pod = Details::default();
        state::take_kube_labels(&mut from_pod, state::string_map(pod_labels.as_ref()));
        d.labels.extend(from_pod.labels);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const ID: &str = "6314eb3b27236d65aafbd4c495de87a21d44e4798c7a74b8c38b88c3790699a3";
    const POD: &str = "1e0f2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4";

    fn spec(storage: &Path, id: &str, annotations: &str) {
        let dir = storage.join("overlay-containers").join(id).join("userdata");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.json"),
            format!(
                r#"{{"ociVersion":"1.0.2-dev","root":{{"path":"/x"}},"annotations":{annotations}}}"#
            ),
        )
        .unwrap();
    }

    #[test]
    fn a_podman_container_from_its_volatile_list() {
        let t = tempfile::tempdir().unwrap();
        let (graph, run) = (t.path().join("graph"), t.path().join("run"));
        spec(
            &graph,
            ID,
            r#"{"io.container.manager":"libpod","io.podman.annotations.autoremove":"TRUE",
               "org.opencontainers.image.stopSignal":"15"}"#,
        );
        std::fs::create_dir_all(run.join("overlay-containers")).unwrap();
        std::fs::write(
            run.join("overlay-containers/volatile-containers.json"),
            format!(
                r#"[{{"id":"{POD}","names":["other"]}},
                {{"id":"{ID}","names":["oisp-test-ctr"],"image":"5b0c","layer":"60b6",
                "metadata":"{{\"image-name\":\"docker.example/library/debian:bookworm\",\"image-id\":\"5b0c\",\"name\":\"oisp-test-ctr\",\"created-at\":1796388287}}",
                "created":"2026-12-04T12:44:47.571526048Z","flags":{{"Volatile":true}}}}]"#
            ),
        )
        .unwrap();
        let (d, rt) = details(&[graph, run], ID).unwrap();
        assert_eq!(rt, Some(Runtime::Podman));
        assert_eq!(d.name.as_deref(), Some("oisp-test-ctr"));
        assert_eq!(
            d.image.as_deref(),
            Some("docker.example/library/debian:bookworm")
        );
    }

    #[test]
    fn a_podman_rootfs_container_has_no_image() {
        let t = tempfile::tempdir().unwrap();
        let graph = t.path().join("graph");
        std::fs::create_dir_all(graph.join("vfs-containers")).unwrap();
        std::fs::write(
            graph.join("vfs-containers/containers.json"),
            format!(
                r#"[{{"id":"{ID}","names":[],"image":"","metadata":"{{\"image-name\":\"\",\"name\":\"from-meta\"}}"}}]"#
            ),
        )
        .unwrap();
        let (d, rt) = details(&[graph], ID).unwrap();
        assert_eq!(rt, None);
        assert_eq!(d.name.as_deref(), Some("from-meta"));
        assert_eq!(d.image, None);
    }

    #[test]
    fn a_crio_container_with_its_pod_labels() {
        let t = tempfile::tempdir().unwrap();
        let run = t.path().join("run");
        let labels = r#"{\"io.kubernetes.container.name\":\"agent\",\"io.kubernetes.pod.name\":\"agent-7d9f8-xk2lp\",\"io.kubernetes.pod.namespace\":\"ml\",\"io.kubernetes.pod.uid\":\"0b6c2c1e-5a7d-4b8e-9f3a-2d1c0e9b8a76\"}"#;
        spec(
            &run,
            ID,
            &format!(
                r#"{{"io.kubernetes.cri-o.ContainerType":"container",
                "io.kubernetes.cri-o.Name":"k8s_agent_agent-7d9f8-xk2lp_ml_0b6c2c1e-5a7d-4b8e-9f3a-2d1c0e9b8a76_0",
                "io.kubernetes.cri-o.Metadata":"{{\"name\":\"agent\",\"attempt\":0}}",
                "io.kubernetes.cri-o.ImageName":"registry.example/ml/agent:1.4",
                "io.kubernetes.cri-o.Image":"sha256:77aa",
                "io.kubernetes.cri-o.Labels":"{labels}",
                "io.kubernetes.cri-o.SandboxID":"{POD}",
                "io.kubernetes.pod.name":"agent-7d9f8-xk2lp"}}"#
            ),
        );
        spec(
            &run,
            POD,
            r#"{"io.kubernetes.cri-o.ContainerType":"sandbox",
               "io.kubernetes.cri-o.Labels":"{\"app\":\"agent\",\"pod-template-hash\":\"7d9f8\",\"io.kubernetes.pod.name\":\"agent-7d9f8-xk2lp\"}"}"#,
        );
        let (d, rt) = details(&[t.path().join("graph"), run], ID).unwrap();
        assert_eq!(rt, Some(Runtime::Crio));
        assert_eq!(d.name.as_deref(), Some("agent"));
        assert_eq!(d.image.as_deref(), Some("registry.example/ml/agent:1.4"));
        assert_eq!(d.pod_name.as_deref(), Some("agent-7d9f8-xk2lp"));
        assert_eq!(d.namespace.as_deref(), Some("ml"));
        assert_eq!(
            d.pod_uid.as_deref(),
            Some("0b6c2c1e-5a7d-4b8e-9f3a-2d1c0e9b8a76")
        );
        let keys: Vec<&str> = d.labels.keys().map(String::as_str).collect();
        assert_eq!(keys, ["app", "pod-template-hash"]);
    }

    #[test]
    fn unknown_ids_and_broken_files() {
        let t = tempfile::tempdir().unwrap();
        assert!(details(&[t.path().to_path_buf()], ID).is_none());
        std::fs::create_dir_all(t.path().join("overlay-containers")).unwrap();
        std::fs::write(t.path().join("overlay-containers/containers.json"), "[{]").unwrap();
        spec(t.path(), POD, "\"not an object\"");
        assert!(details(&[t.path().to_path_buf()], ID).is_none());
        let (d, rt) = details(&[t.path().to_path_buf()], POD).unwrap();
        assert_eq!((d, rt), (Details::default(), None));
    }
}
