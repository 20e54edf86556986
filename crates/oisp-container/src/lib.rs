//! Which container a process runs in, from its cgroup path: the one job of this crate.
//!
//! [`cgroup::parse`] reads a container id, a runtime hint and a Kubernetes pod uid off the path
//! alone (pure). [`Resolver`] then asks the runtimes' state files on this machine for the
//! container's name, image, pod and labels ([`Roots`] says where they are), once per cgroup, and
//! returns an [`oisp_capture::ContainerInfo`] for the capture to emit. Missing or unreadable
//! state is never an error: the info then holds the id and the runtime the layout named.
//!
//! Layouts understood (cgroup v2 or a v1 hierarchy's path; the deepest matching component wins):
//! `docker-<id>.scope` and `/docker/<id>` (Docker), `cri-containerd-<id>.scope` and
//! `nerdctl-<id>.scope` (containerd), `crio-<id>.scope` / `crio-<id>` (CRI-O), `libpod-<id>.scope` /
//! `libpod-<id>` (Podman), a bare `<id>` (runtime from whichever state knows it); kubelet's
//! `kubepods[-<qos>]-pod<uid>.slice` and `kubepods/<qos>/pod<uid>` give the pod uid. The
//! monitors' own cgroups (`crio-conmon-<id>`, `libpod-conmon-<id>`) are not containers.
//!
//! [`CgroupPaths`] turns the cgroup v2 id the kernel gives at exec into the cgroup's path, for
//! processes gone before their `/proc/PID/cgroup` could be read (Unix builds: it reads the
//! cgroup file system).

pub mod cgroup;
#[cfg(unix)]
mod cgroupfs;
mod containerd;
mod docker;
mod resolver;
mod state;
mod storage;

pub use cgroup::{CgroupRef, Runtime};
#[cfg(unix)]
pub use cgroupfs::{CgroupPaths, MAX_CGROUP_DIRS, SCANS_PER_SECOND};
pub use resolver::{Resolver, Roots, MAX_CGROUPS};
