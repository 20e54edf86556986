//! Docker: `<root>/containers/<id>/config.v2.json` (root `/var/lib/docker`), the container's
//! saved configuration — `Name` (with a leading `/`), `Config.Image` (the reference it was run
//! with), `Config.Labels` (under Kubernetes' dockershim, `io.kubernetes.*` labels name the pod).

use crate::state::{self, Details};
use std::path::Path;

/// The container `id`'s details, if Docker's state has it.
pub(crate) fn details(root: &Path, id: &str) -> Option<Details> {
    let v = state::read_json(&root.join("containers").join(id).join("config.v2.json"))?;
    let mut d = Details {
        name: state::text(&v, "Name").map(|n| n.trim_start_matches('/').to_string()),
        ..Default::default()
    };
    if let Some(cfg) = v.get("Config") {
        d.image = state::text(cfg, "Image");
        state::take_kube_labels(&mut d, state::string_map(cfg.get("Labels")));
    }
    if d.image.is_none() {
        // The image id, when the reference is gone.
        d.image = state::text(&v, "Image");
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "9a1d1e4c0b7f2a3e5d6c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6";

    fn write(root: &Path, json: &str) {
        let dir = root.join("containers").join(ID);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.v2.json"), json).unwrap();
    }

    #[test]
    fn a_plain_container() {
        let t = tempfile::tempdir().unwrap();
        write(
            t.path(),
            &format!(
                r#"{{"ID":"{ID}","Created":"2026-01-05T10:00:00Z","Path":"python3",
                "Config":{{"Hostname":"9a1d1e4c0b7f","Image":"python:3.12-slim","Cmd":["python3","agent.py"],
                "Labels":{{"com.example.team":"ml","org.opencontainers.image.version":"3.12"}}}},
                "Image":"sha256:5b0c","Name":"/agent-runner","Driver":"overlay2",
                "State":{{"Running":true,"Pid":4242}}}}"#
            ),
        );
        let d = details(t.path(), ID).unwrap();
        assert_eq!(d.name.as_deref(), Some("agent-runner"));
        assert_eq!(d.image.as_deref(), Some("python:3.12-slim"));
        assert_eq!(
            d.labels.get("com.example.team").map(String::as_str),
            Some("ml")
        );
        assert_eq!(d.pod_name, None);
    }

    #[test]
    fn a_dockershim_pod_container() {
        let t = tempfile::tempdir().unwrap();
        write(
            t.path(),
            r#"{"Name":"/k8s_agent_agent-5d8f_ml_0b6c2c1e_0","Image":"sha256:77aa",
            "Config":{"Image":"sha256:77aa","Labels":{
              "io.kubernetes.container.name":"agent","io.kubernetes.pod.name":"agent-5d8f",
              "io.kubernetes.pod.namespace":"ml","io.kubernetes.pod.uid":"0b6c2c1e",
              "io.kubernetes.docker.type":"container","app":"agent"}}}"#,
        );
        let d = details(t.path(), ID).unwrap();
        assert_eq!(d.name.as_deref(), Some("agent"));
        assert_eq!(d.pod_name.as_deref(), Some("agent-5d8f"));
        assert_eq!(d.namespace.as_deref(), Some("ml"));
        assert_eq!(d.pod_uid.as_deref(), Some("0b6c2c1e"));
        assert_eq!(d.labels.keys().collect::<Vec<_>>(), ["app"]);
    }

    #[test]
    fn absent_or_broken_state_is_none() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(details(t.path(), ID), None);
        write(t.path(), "{not json");
        assert_eq!(details(t.path(), ID), None);
        write(t.path(), r#"{"Name":7,"Config":"x"}"#);
        assert_eq!(details(t.path(), ID), Some(Details::default()));
    }
}
