//! [`Resolver`]: a cgroup path → the container behind it, once per cgroup.

use crate::cgroup::{self, CgroupRef, Runtime};
use crate::state::Details;
use crate::{containerd, docker, storage};
use oisp_capture::{ContainerInfo, Timestamp};
use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};

/// Where the runtimes keep their state.
#[derive(Debug, Clone)]
pub struct Roots {
    /// Docker's data root (`/var/lib/docker`).
    pub docker: PathBuf,
    /// containerd's v2 task directories (one per containerd: the system's, k3s's).
    pub containerd_tasks: Vec<PathBuf>,
    /// containers/storage directories (Podman's and CRI-O's graph and run roots).
    pub storage: Vec<PathBuf>,
}

impl Roots {
    /// The default locations on this machine (rootful runtimes).
    pub fn host() -> Roots {
        Roots::under(Path::new("/"))
    }

    /// The default locations below `prefix` (tests; a host's root mounted elsewhere).
    pub fn under(prefix: &Path) -> Roots {
        Roots {
            docker: prefix.join("var/lib/docker"),
            containerd_tasks: vec![
                prefix.join("run/containerd/io.containerd.runtime.v2.task"),
                prefix.join("run/k3s/containerd/io.containerd.runtime.v2.task"),
            ],
            storage: vec![
                prefix.join("var/lib/containers/storage"),
                prefix.join("run/containers/storage"),
            ],
        }
    }
}

/// Cgroups remembered as seen; past it the oldest is forgotten (and resolved again if seen
/// again).
pub const MAX_CGROUPS: usize = 4096;

/// Resolves cgroups to containers, remembering which cgroups it has seen.
pub struct Resolver {
    roots: Roots,
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl Resolver {
    pub fn new(roots: Roots) -> Resolver {
        Resolver {
            roots,
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// The container behind `cgroup` the first time this cgroup is seen (while remembered);
    /// `None` when seen before or when the cgroup is no container's.
    pub fn first_sight(&mut self, cgroup: &str, ts: Timestamp) -> Option<ContainerInfo> {
        if self.seen.contains(cgroup) {
            return None;
        }
        if self.seen.len() >= MAX_CGROUPS {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.seen.insert(cgroup.to_string());
        self.order.push_back(cgroup.to_string());
        self.resolve(cgroup, ts)
    }

    /// The container behind `cgroup` now (reads the runtimes' state; remembers nothing).
    pub fn resolve(&self, cgroup: &str, ts: Timestamp) -> Option<ContainerInfo> {
        let r = cgroup::parse(cgroup)?;
        let (d, runtime) = self.lookup(&r);
        Some(ContainerInfo {
            ts,
            cgroup: cgroup.to_string(),
            id: r.id,
            runtime: runtime.map(|rt| rt.as_str().to_string()),
            name: d.name,
            image: d.image,
            pod_uid: r.pod_uid.or(d.pod_uid),
            pod_name: d.pod_name,
            namespace: d.namespace,
            labels: d.labels.into_iter().collect(),
        })
    }

    /// The runtime state that knows `r.id` (the layout's runtime first), and the runtime: the
    /// layout's, else the one whose state knew the id.
    fn lookup(&self, r: &CgroupRef) -> (Details, Option<Runtime>) {
        let roots = &self.roots;
        let docker = || docker::details(&roots.docker, &r.id).map(|d| (d, Some(Runtime::Docker)));
        let containerd = || {
            roots
                .containerd_tasks
                .iter()
                .find_map(|t| containerd::details(t, &r.id))
                .map(|(d, rt)| (d, Some(rt)))
        };
        let storage = || storage::details(&roots.storage, &r.id);
        let found = match r.runtime {
            Some(Runtime::Docker) => docker().or_else(containerd),
            Some(Runtime::Containerd) => containerd(),
            Some(Runtime::Crio) | Some(Runtime::Podman) => storage(),
            None => containerd().or_else(docker).or_else(storage),
        };
        match found {
            Some((d, rt)) => (d, r.runtime.or(rt)),
            None => (Details::default(), r.runtime),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "b23c08d5b2bf98f1e7f32bbc0c539838eea4a9ac673a9098de56f409d30b3607";

    fn ts() -> Timestamp {
        Timestamp {
            wall_ns: 1,
            mono_ns: 2,
        }
    }

    #[test]
    fn once_per_cgroup_and_bounded() {
        let t = tempfile::tempdir().unwrap();
        let mut r = Resolver::new(Roots::under(t.path()));
        let cg = format!("/libpod_parent/libpod-{ID}");
        let info = r.first_sight(&cg, ts()).unwrap();
        assert_eq!(info.id, ID);
        assert_eq!(info.runtime.as_deref(), Some("podman"));
        assert_eq!((info.name, info.image), (None, None));
        assert_eq!(r.first_sight(&cg, ts()), None);
        assert_eq!(r.first_sight("/user.slice/session-1.scope", ts()), None);
        for i in 0..MAX_CGROUPS {
            r.first_sight(&format!("/other/{i}"), ts());
        }
        assert!(r.seen.len() <= MAX_CGROUPS);
        assert!(
            r.first_sight(&cg, ts()).is_some(),
            "forgotten, resolved anew"
        );
    }

    #[test]
    fn a_bare_id_under_kubepods_is_found_in_containerd() {
        let t = tempfile::tempdir().unwrap();
        let bundle = t
            .path()
            .join("run/containerd/io.containerd.runtime.v2.task/k8s.io")
            .join(ID);
        std::fs::create_dir_all(&bundle).unwrap();
        std::fs::write(
            bundle.join("config.json"),
            r#"{"annotations":{"io.kubernetes.cri.container-name":"agent",
               "io.kubernetes.cri.sandbox-name":"agent-0","io.kubernetes.cri.sandbox-namespace":"ml"}}"#,
        )
        .unwrap();
        let uid = "0b6c2c1e-5a7d-4b8e-9f3a-2d1c0e9b8a76";
        let r = Resolver::new(Roots::under(t.path()));
        let info = r
            .resolve(&format!("/kubepods/burstable/pod{uid}/{ID}"), ts())
            .unwrap();
        assert_eq!(info.runtime.as_deref(), Some("containerd"));
        assert_eq!(info.name.as_deref(), Some("agent"));
        assert_eq!(info.pod_name.as_deref(), Some("agent-0"));
        assert_eq!(info.namespace.as_deref(), Some("ml"));
        assert_eq!(info.pod_uid.as_deref(), Some(uid));
        // Nothing knows it: the id alone.
        let none = Resolver::new(Roots::under(&t.path().join("empty")));
        let info = none
            .resolve(&format!("/kubepods/pod{uid}/{ID}"), ts())
            .unwrap();
        assert_eq!((info.runtime, info.name), (None, None));
    }
}
