//! containerd: the task bundle `<tasks>/<namespace>/<id>/config.json` (tasks root
//! `/run/containerd/io.containerd.runtime.v2.task`), the OCI spec the shim runs. Kubernetes'
//! CRI plugin annotates it: `io.kubernetes.cri.container-name`, `…image-name`, `…sandbox-name`,
//! `…sandbox-namespace`, `…sandbox-uid` (older releases lack `…image-name` and
//! `…sandbox-uid`). The namespace directory tells who made it: `k8s.io` (CRI), `moby` (Docker
//! on containerd), others (nerdctl, ctr).

use crate::cgroup::Runtime;
use crate::state::{self, Details};
use std::path::Path;

/// The container `id`'s details and who runs it, if a task bundle under `tasks` has it.
pub(crate) fn details(tasks: &Path, id: &str) -> Option<(Details, Runtime)> {
    for ns in state::subdirs(tasks) {
        let bundle = tasks.join(&ns).join(id);
        if !bundle.is_dir() {
            continue;
        }
        let runtime = if ns == "moby" {
            Runtime::Docker
        } else {
            Runtime::Containerd
        };
        let spec = state::read_json(&bundle.join("config.json"));
        let ann = state::string_map(spec.as_ref().and_then(|s| s.get("annotations")));
        let pick = |k: &str| ann.get(k).filter(|v| !v.is_empty()).cloned();
        let d = Details {
            name: pick("io.kubernetes.cri.container-name"),
            image: pick("io.kubernetes.cri.image-name"),
            pod_uid: pick("io.kubernetes.cri.sandbox-uid"),
            pod_name: pick("io.kubernetes.cri.sandbox-name"),
            namespace: pick("io.kubernetes.cri.sandbox-namespace"),
            labels: Default::default(),
        };
        return Some((d, runtime));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2";

    fn bundle(root: &Path, ns: &str, spec: &str) {
        let dir = root.join(ns).join(ID);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), spec).unwrap();
    }

    #[test]
    fn a_cri_container() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("default")).unwrap();
        bundle(
            t.path(),
            "k8s.io",
            r#"{"ociVersion":"1.1.0","process":{"args":["python3","agent.py"]},
            "root":{"path":"rootfs"},"annotations":{
              "io.kubernetes.cri.container-type":"container",
              "io.kubernetes.cri.container-name":"agent",
              "io.kubernetes.cri.image-name":"registry.example/ml/agent:1.4",
              "io.kubernetes.cri.sandbox-id":"aa11",
              "io.kubernetes.cri.sandbox-name":"agent-7d9f8-xk2lp",
              "io.kubernetes.cri.sandbox-namespace":"ml",
              "io.kubernetes.cri.sandbox-uid":"0b6c2c1e-5a7d-4b8e-9f3a-2d1c0e9b8a76"},
            "linux":{"cgroupsPath":"kubepods-burstable-pod0b6c2c1e_5a7d_4b8e_9f3a_2d1c0e9b8a76.slice:cri-containerd:c3d2"}}"#,
        );
        let (d, rt) = details(t.path(), ID).unwrap();
        assert_eq!(rt, Runtime::Containerd);
        assert_eq!(d.name.as_deref(), Some("agent"));
        assert_eq!(d.image.as_deref(), Some("registry.example/ml/agent:1.4"));
        assert_eq!(d.pod_name.as_deref(), Some("agent-7d9f8-xk2lp"));
        assert_eq!(d.namespace.as_deref(), Some("ml"));
        assert_eq!(
            d.pod_uid.as_deref(),
            Some("0b6c2c1e-5a7d-4b8e-9f3a-2d1c0e9b8a76")
        );
    }

    #[test]
    fn docker_on_containerd_and_unreadable_specs() {
        let t = tempfile::tempdir().unwrap();
        bundle(t.path(), "moby", "{\"annotations\":");
        let (d, rt) = details(t.path(), ID).unwrap();
        assert_eq!(rt, Runtime::Docker);
        assert_eq!(d, Details::default());
        let empty = tempfile::tempdir().unwrap();
        assert!(details(empty.path(), ID).is_none());
        assert!(details(&empty.path().join("absent"), ID).is_none());
    }
}
