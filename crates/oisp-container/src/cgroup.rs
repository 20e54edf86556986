//! Cgroup paths → container id, runtime hint and pod uid. Pure: no I/O.

/// A container runtime this crate knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    Docker,
    Containerd,
    Crio,
    Podman,
}

impl Runtime {
    /// The name OISP's `host.container.runtime` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Containerd => "containerd",
            Runtime::Crio => "crio",
            Runtime::Podman => "podman",
        }
    }
}

/// What a cgroup path alone says about the container a process runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupRef {
    /// 64 lowercase hex digits.
    pub id: String,
    /// The runtime the layout names (`None` for a bare id).
    pub runtime: Option<Runtime>,
    /// The pod uid from kubelet's layout (dashed form), when the path is under `kubepods`.
    pub pod_uid: Option<String>,
}

/// Whether `s` is a container id: 64 hex digits.
pub fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

enum Component {
    Container(String, Option<Runtime>),
    /// A runtime's monitor process (conmon), next to the container but not in it.
    Monitor,
    Other,
}

fn component(c: &str, parent: Option<&str>) -> Component {
    let name = c.strip_suffix(".scope").unwrap_or(c);
    if is_id(name) {
        let hint = (parent == Some("docker")).then_some(Runtime::Docker);
        return Component::Container(name.to_ascii_lowercase(), hint);
    }
    let Some((prefix, id)) = name.rsplit_once('-') else {
        return Component::Other;
    };
    if !is_id(id) {
        return Component::Other;
    }
    let runtime = match prefix {
        "docker" => Runtime::Docker,
        "cri-containerd" | "nerdctl" => Runtime::Containerd,
        "crio" => Runtime::Crio,
        "libpod" => Runtime::Podman,
        "crio-conmon" | "libpod-conmon" => return Component::Monitor,
        _ => return Component::Other,
    };
    Component::Container(id.to_ascii_lowercase(), Some(runtime))
}

/// The container a cgroup path belongs to, or `None` (not a container, or a runtime's monitor).
/// Accepts the path with or without the `0::` of `/proc/PID/cgroup`.
pub fn parse(path: &str) -> Option<CgroupRef> {
    let path = path.strip_prefix("0::").unwrap_or(path);
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let mut found = None;
    for i in (0..comps.len()).rev() {
        let parent = i.checked_sub(1).map(|p| comps[p]);
        match component(comps[i], parent) {
            Component::Container(id, rt) => {
                found = Some((id, rt));
                break;
            }
            Component::Monitor => return None,
            Component::Other => {}
        }
    }
    let (id, runtime) = found?;
    Some(CgroupRef {
        id,
        runtime,
        pod_uid: pod_uid(&comps),
    })
}

/// The pod uid of kubelet's layout: `pod<uid>` below `kubepods[/<qos>]` (cgroupfs driver) or
/// `kubepods[-<qos>]-pod<uid with _ for ->.slice` (systemd driver).
fn pod_uid(comps: &[&str]) -> Option<String> {
    if !comps.iter().any(|c| c.starts_with("kubepods")) {
        return None;
    }
    comps.iter().find_map(|c| {
        let name = c.strip_suffix(".slice").unwrap_or(c);
        let uid = match name.strip_prefix("pod") {
            Some(u) => u,
            None => name.strip_prefix("kubepods")?.rsplit_once("-pod")?.1,
        };
        let uid = uid.replace('_', "-");
        let ok = (32..=36).contains(&uid.len())
            && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        ok.then(|| uid.to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4f1c9a3be07d2c5e8a6b1d0f9e2c3b4a5d6e7f8091a2b3c4d5e6f708192a3b4c";
    const UID: &str = "0b6c2c1e-5a7d-4b8e-9f3a-2d1c0e9b8a76";

    fn rt(path: &str) -> Option<(Option<Runtime>, Option<String>)> {
        parse(path).map(|r| {
            assert_eq!(r.id, ID, "{path}");
            (r.runtime, r.pod_uid)
        })
    }

    #[test]
    fn runtime_layouts() {
        let cases = [
            (
                format!("0::/system.slice/docker-{ID}.scope"),
                Runtime::Docker,
            ),
            (format!("/docker/{ID}"), Runtime::Docker),
            (
                format!("/system.slice/containerd.service/nerdctl-{ID}.scope"),
                Runtime::Containerd,
            ),
            (format!("/machine.slice/libpod-{ID}.scope"), Runtime::Podman),
            (
                format!("/machine.slice/libpod-{ID}.scope/container"),
                Runtime::Podman,
            ),
            (format!("/libpod_parent/libpod-{ID}"), Runtime::Podman),
            (
                format!(
                    "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"
                ),
                Runtime::Podman,
            ),
        ];
        for (path, want) in cases {
            assert_eq!(rt(&path), Some((Some(want), None)), "{path}");
        }
    }

    #[test]
    fn kubelet_layouts() {
        let under = UID.replace('-', "_");
        let cases = [
            (
                format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{under}.slice/cri-containerd-{ID}.scope"),
                Some(Runtime::Containerd),
            ),
            (
                format!("/kubepods.slice/kubepods-pod{under}.slice/crio-{ID}.scope"),
                Some(Runtime::Crio),
            ),
            (format!("/kubepods/besteffort/pod{UID}/{ID}"), None),
            (format!("/kubepods/pod{UID}/crio-{ID}"), Some(Runtime::Crio)),
            (format!("/kubepods/burstable/pod{UID}/{ID}"), None),
        ];
        for (path, want) in cases {
            assert_eq!(rt(&path), Some((want, Some(UID.to_string()))), "{path}");
        }
        // A static pod's uid is a 32-digit hash.
        let hash = "d41d8cd98f00b204e9800998ecf8427e";
        let r = parse(&format!("/kubepods/burstable/pod{hash}/{ID}")).unwrap();
        assert_eq!(r.pod_uid.as_deref(), Some(hash));
    }

    #[test]
    fn not_containers() {
        for path in [
            "0::/".to_string(),
            "/user.slice/user-0.slice/session-3.scope".into(),
            "/system.slice/docker.service".into(),
            "/libpod_parent/conmon".into(),
            format!("/machine.slice/libpod-conmon-{ID}.scope"),
            format!("/kubepods.slice/kubepods-pod1.slice/crio-conmon-{ID}.scope"),
            format!("/system.slice/unknown-{ID}.scope"),
            format!("/docker/{}", &ID[..63]),
            "/process_api/e7c04d9a8da85c2feed76dab91ec5f04".into(),
            String::new(),
            "////".into(),
            "-".into(),
        ] {
            assert_eq!(parse(&path), None, "{path}");
        }
    }

    #[test]
    fn ids_are_lowercased() {
        let upper = ID.to_ascii_uppercase();
        assert_eq!(parse(&format!("/docker/{upper}")).unwrap().id, ID);
    }
}
