//! [`ContainerInfo`]: what a capture source learnt about the container behind one cgroup.
//!
//! A capture source emits it once per cgroup (again only if it forgot the cgroup and resolved it
//! anew), before the first record of a process in that cgroup, so a decoder that remembers it by
//! cgroup can put the container and pod on every event of such a process. It carries what the
//! source found, never guesses: fields it could not read stay empty.

use crate::record::Timestamp;
use serde::{Deserialize, Serialize};

/// The container behind a cgroup path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerInfo {
    /// When the source resolved it.
    pub ts: Timestamp,
    /// The cgroup path exactly as exec records carry it (`ProcessExec::cgroup`).
    pub cgroup: String,
    /// The runtime's container id (64 lowercase hex digits for every runtime known here).
    pub id: String,
    /// `docker`, `containerd`, `crio`, `podman`, or `other`; `None` when the layout named none
    /// and no runtime's state knew the id.
    pub runtime: Option<String>,
    /// The container's name as its runtime shows it (Docker without the leading `/`; for a
    /// Kubernetes container, the container's name in its pod).
    pub name: Option<String>,
    /// The image reference the container was created from, as given to the runtime.
    pub image: Option<String>,
    /// The pod's uid, from kubelet's cgroup layout or the runtime's annotations.
    pub pod_uid: Option<String>,
    pub pod_name: Option<String>,
    /// The pod's Kubernetes namespace.
    pub namespace: Option<String>,
    /// Labels the runtime holds for the container or its pod, sorted by key (Kubernetes' own
    /// `io.kubernetes.*` bookkeeping labels left out).
    pub labels: Vec<(String, String)>,
}
