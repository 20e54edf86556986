//! Resource attributes (who produced a record) and grouping of records per resource.
//!
//! Every record or span is attributed to the process it concerns: `service.name` (the sensor's,
//! configurable), `host.name`, `host.arch`, `os.type`, `process.pid`,
//! `process.parent_pid`, `process.executable.path`, `process.executable.name`,
//! `process.command_line`, `process.command_args`, `process.user.id`, `container.id` (and
//! `container.name`, `container.image.name`, `container.runtime` from `host.container`), the
//! `k8s.*` names when known, and every `OTEL_RESOURCE_ATTRIBUTES` entry. Host facts come from the
//! event's `host`; when it has none they come from the machine the sink runs on (the machine
//! that captured, except when replaying someone else's capture).

use crate::attrs::Attrs;
use oisp_event::{Arch, Event, Os};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use std::collections::{BTreeMap, HashMap};

/// Facts about the machine the sink runs on, read once.
#[derive(Debug, Clone)]
pub struct LocalHost {
    pub hostname: Option<String>,
    pub arch: Arch,
    pub os: Os,
}

impl LocalHost {
    /// Reads the host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`).
    pub fn detect() -> Self {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|s| s.trim().to_owned())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .filter(|s| !s.is_empty());
        LocalHost {
            hostname,
            arch: Arch::current(),
            os: Os::current(),
        }
    }
}

/// `host.arch` well-known values.
fn arch_value(a: Arch) -> Option<&'static str> {
    match a {
        Arch::X86_64 => Some("amd64"),
        Arch::Aarch64 => Some("arm64"),
        Arch::Arm => Some("arm32"),
        Arch::I686 => Some("x86"),
        Arch::Other => None,
    }
}

/// `os.type` well-known values.
fn os_value(o: Os) -> Option<&'static str> {
    match o {
        Os::Linux => Some("linux"),
        Os::Darwin => Some("darwin"),
        Os::Windows => Some("windows"),
        Os::Freebsd => Some("freebsd"),
        Os::Other => None,
    }
}

/// The static part of every resource.
#[derive(Debug, Clone)]
pub struct ResourceBase {
    pub service_name: String,
    pub extra: BTreeMap<String, String>,
    pub local: LocalHost,
}

impl ResourceBase {
    /// The resource attributes of `ev`.
    pub fn attributes(&self, ev: &Event) -> Vec<KeyValue> {
        let mut a = Attrs::new();
        a.str("service.name", Some(&self.service_name));
        let host = ev.host.as_ref();
        let hostname = host
            .and_then(|h| h.hostname.clone())
            .or_else(|| self.local.hostname.clone());
        a.str("host.name", hostname);
        let arch = host.and_then(|h| h.arch).unwrap_or(self.local.arch);
        let os = host.and_then(|h| h.os).unwrap_or(self.local.os);
        a.str("host.arch", arch_value(arch))
            .str("os.type", os_value(os));
        if let Some(p) = &ev.process {
            a.int("process.pid", p.pid)
                .int("process.parent_pid", p.ppid)
                .str("process.executable.path", p.exe.as_deref())
                .str("process.executable.name", p.name.as_deref())
                .str("process.command_line", p.cmdline.as_deref())
                .strs(
                    "process.command_args",
                    p.cmdline_args.clone().unwrap_or_default(),
                );
        }
        a.int("process.user.id", ev.actor.as_ref().and_then(|x| x.uid));
        let container = ev
            .process
            .as_ref()
            .and_then(|p| p.container_id.clone())
            .or_else(|| host.and_then(|h| h.container.as_ref()?.id.clone()));
        a.str("container.id", container);
        if let Some(c) = host.and_then(|h| h.container.as_ref()) {
            a.str("container.name", c.name.as_deref())
                .str("container.image.name", c.image.as_deref())
                .str("container.runtime", c.runtime.map(|r| r.as_str()));
        }
        if let Some(k) = host.and_then(|h| h.k8s.as_ref()) {
            a.str("k8s.cluster.name", k.cluster_name.as_deref())
                .str("k8s.namespace.name", k.namespace.as_deref())
                .str("k8s.pod.name", k.pod_name.as_deref())
                .str("k8s.pod.uid", k.pod_uid.as_deref())
                .str("k8s.node.name", k.node_name.as_deref())
                .str("k8s.deployment.name", k.deployment.as_deref());
        }
        for (k, v) in &self.extra {
            if !a.0.iter().any(|kv| &kv.key == k) {
                a.str(k, Some(v));
            }
        }
        a.into_vec()
    }
}

/// Largest export request the sink builds (encoded records plus their resources): below the
/// 4 MiB a gRPC server (the Collector included) accepts by default.
pub const MAX_REQUEST_BYTES: usize = 3 << 20;

/// Splits `(resource attributes, item)` pairs, in order, into groups whose encoded size stays
/// under [`MAX_REQUEST_BYTES`] (an item larger than that alone gets a group of its own).
pub fn chunk<T: Message>(items: Vec<(Vec<KeyValue>, T)>) -> Vec<Grouped<T>> {
    let mut out = Vec::new();
    let mut cur = Grouped::default();
    let mut size = 0usize;
    for (attrs, item) in items {
        let n = item.encoded_len() + attrs.iter().map(Message::encoded_len).sum::<usize>() + 16;
        if size + n > MAX_REQUEST_BYTES && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            size = 0;
        }
        size += n;
        cur.push(attrs, item);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Items grouped by resource, in first-seen order (records keep their order inside a group).
#[derive(Debug)]
pub struct Grouped<T> {
    groups: Vec<(Resource, Vec<T>)>,
    index: HashMap<Vec<u8>, usize>,
}

impl<T> Default for Grouped<T> {
    fn default() -> Self {
        Grouped {
            groups: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T> Grouped<T> {
    /// Adds `item` under the resource with these attributes.
    pub fn push(&mut self, attributes: Vec<KeyValue>, item: T) {
        let resource = Resource {
            attributes,
            ..Default::default()
        };
        let key = resource.encode_to_vec();
        let i = *self.index.entry(key).or_insert_with(|| {
            self.groups.push((resource, Vec::new()));
            self.groups.len() - 1
        });
        self.groups[i].1.push(item);
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn into_groups(self) -> Vec<(Resource, Vec<T>)> {
        self.groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oisp_event::{Container, ContainerRuntime, Host, K8s, SensorWarning, Timestamp};
    use opentelemetry_proto::tonic::common::v1::any_value::Value;

    fn get(attrs: &[KeyValue], key: &str) -> Option<String> {
        attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
            match kv.value.as_ref()?.value.as_ref()? {
                Value::StringValue(s) => Some(s.clone()),
                _ => None,
            }
        })
    }

    #[test]
    fn a_container_and_its_pod_become_resource_attributes() {
        let base = ResourceBase {
            service_name: "oisp-sensor".into(),
            extra: BTreeMap::new(),
            local: LocalHost {
                hostname: Some("node-1".into()),
                arch: Arch::X86_64,
                os: Os::Linux,
            },
        };
        let ev =
            Event::new(SensorWarning::new("x", "y"), Timestamp::default(), "id").with_host(Host {
                container: Some(Container {
                    id: Some("ab".repeat(32)),
                    name: Some("agent".into()),
                    image: Some("registry.example/agent:1".into()),
                    runtime: Some(ContainerRuntime::Podman),
                }),
                k8s: Some(K8s {
                    namespace: Some("ml".into()),
                    ..Default::default()
                }),
                ..Default::default()
            });
        let a = base.attributes(&ev);
        assert_eq!(get(&a, "host.name").as_deref(), Some("node-1"));
        assert_eq!(get(&a, "container.id"), Some("ab".repeat(32)));
        assert_eq!(get(&a, "container.name").as_deref(), Some("agent"));
        assert_eq!(
            get(&a, "container.image.name").as_deref(),
            Some("registry.example/agent:1")
        );
        assert_eq!(get(&a, "container.runtime").as_deref(), Some("podman"));
        assert_eq!(get(&a, "k8s.namespace.name").as_deref(), Some("ml"));
    }
}
