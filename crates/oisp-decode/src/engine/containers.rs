//! Containers by cgroup, learnt from `Container` records, so every event of a process in a
//! container carries `host.container` (and `host.k8s` for a pod's container).
//!
//! Pure: it only learns from records. Bounded: at most [`MAX_CONTAINERS`] cgroups; past it the
//! oldest learnt is forgotten (its processes' events then carry no container).

use oisp_capture::ContainerInfo;
use oisp_event::{Container, ContainerRuntime, Host, K8s};
use std::collections::{HashMap, VecDeque};

/// Upper bound on remembered cgroups.
pub const MAX_CONTAINERS: usize = 16_384;

#[derive(Debug, Default)]
pub struct ContainerTable {
    by_cgroup: HashMap<String, Host>,
    order: VecDeque<String>,
}

impl ContainerTable {
    /// Remembers (or replaces) the container behind `c.cgroup`.
    pub fn learn(&mut self, c: &ContainerInfo) {
        if !self.by_cgroup.contains_key(&c.cgroup) {
            if self.by_cgroup.len() >= MAX_CONTAINERS {
                if let Some(old) = self.order.pop_front() {
                    self.by_cgroup.remove(&old);
                }
            }
            self.order.push_back(c.cgroup.clone());
        }
        self.by_cgroup.insert(c.cgroup.clone(), host(c));
    }

    /// The `host` part of events of a process in `cgroup`, when a container is known there.
    pub fn host(&self, cgroup: Option<&str>) -> Option<&Host> {
        self.by_cgroup.get(cgroup?)
    }
}

fn runtime(name: &str) -> ContainerRuntime {
    match name {
        "docker" => ContainerRuntime::Docker,
        "containerd" => ContainerRuntime::Containerd,
        "crio" => ContainerRuntime::Crio,
        "podman" => ContainerRuntime::Podman,
        _ => ContainerRuntime::Other,
    }
}

/// `host.container`, and `host.k8s` when anything of a pod is known.
fn host(c: &ContainerInfo) -> Host {
    let container = Container {
        id: Some(c.id.clone()),
        name: c.name.clone(),
        image: c.image.clone(),
        runtime: c.runtime.as_deref().map(runtime),
    };
    let in_pod = c.pod_uid.is_some() || c.pod_name.is_some() || c.namespace.is_some();
    let k8s = in_pod.then(|| K8s {
        namespace: c.namespace.clone(),
        pod_name: c.pod_name.clone(),
        pod_uid: c.pod_uid.clone(),
        labels: (!c.labels.is_empty()).then(|| c.labels.iter().cloned().collect()),
        ..Default::default()
    });
    Host {
        container: Some(container),
        k8s,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oisp_capture::Timestamp;

    fn info(cgroup: &str, pod: bool) -> ContainerInfo {
        ContainerInfo {
            ts: Timestamp::default(),
            cgroup: cgroup.into(),
            id: "a".repeat(64),
            runtime: Some("crio".into()),
            name: Some("agent".into()),
            image: None,
            pod_uid: pod.then(|| "0b6c2c1e".into()),
            pod_name: None,
            namespace: pod.then(|| "ml".into()),
            labels: vec![("app".into(), "agent".into())],
        }
    }

    #[test]
    fn learnt_by_cgroup_with_pods_and_bounded() {
        let mut t = ContainerTable::default();
        t.learn(&info("/a", true));
        t.learn(&info("/b", false));
        let a = t.host(Some("/a")).unwrap();
        assert_eq!(
            a.container.as_ref().unwrap().runtime,
            Some(ContainerRuntime::Crio)
        );
        let k8s = a.k8s.as_ref().unwrap();
        assert_eq!(k8s.namespace.as_deref(), Some("ml"));
        assert_eq!(k8s.labels.as_ref().unwrap()["app"], "agent");
        assert!(t.host(Some("/b")).unwrap().k8s.is_none());
        assert!(t.host(Some("/c")).is_none());
        assert!(t.host(None).is_none());
        for i in 0..MAX_CONTAINERS {
            t.learn(&info(&format!("/n{i}"), false));
        }
        assert!(t.by_cgroup.len() <= MAX_CONTAINERS);
        assert!(t.host(Some("/a")).is_none(), "the oldest is forgotten");
    }
}
