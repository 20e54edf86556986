//! What every runtime's reader shares: bounded JSON reads and the details a reader finds.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Largest state file read (a busy host's `containers.json` lists every container).
pub(crate) const MAX_STATE_FILE: u64 = 32 << 20;
/// Most entries of one directory looked at (namespaces, storage drivers).
pub(crate) const MAX_DIR_ENTRIES: usize = 64;

/// What a runtime's state says about one container; every field optional.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Details {
    pub name: Option<String>,
    pub image: Option<String>,
    pub pod_uid: Option<String>,
    pub pod_name: Option<String>,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// A JSON file's value; `None` when absent, unreadable, larger than [`MAX_STATE_FILE`] or not
/// JSON.
pub(crate) fn read_json(path: &Path) -> Option<Value> {
    let f = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(MAX_STATE_FILE + 1).read_to_end(&mut buf).ok()?;
    if buf.len() as u64 > MAX_STATE_FILE {
        return None;
    }
    serde_json::from_slice(&buf).ok()
}

/// A non-empty string member.
pub(crate) fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// An object of strings as a map (other values skipped).
pub(crate) fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Kubernetes' labels on a container (dockershim's, CRI-O's): pod and container names, pod
/// namespace and uid into `d`; the remaining non-`io.kubernetes.` labels are kept as labels.
pub(crate) fn take_kube_labels(d: &mut Details, labels: BTreeMap<String, String>) {
    let pick = |k: &str| labels.get(k).filter(|v| !v.is_empty()).cloned();
    if let Some(n) = pick("io.kubernetes.container.name") {
        d.name = Some(n);
    }
    d.pod_name = d.pod_name.take().or_else(|| pick("io.kubernetes.pod.name"));
    d.namespace = d
        .namespace
        .take()
        .or_else(|| pick("io.kubernetes.pod.namespace"));
    d.pod_uid = d.pod_uid.take().or_else(|| pick("io.kubernetes.pod.uid"));
    d.labels.extend(
        labels
            .into_iter()
            .filter(|(k, _)| !k.starts_with("io.kubernetes.")),
    );
}

/// Subdirectories of `dir` (at most [`MAX_DIR_ENTRIES`]), by name; empty when unreadable.
pub(crate) fn subdirs(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| {
            let e = e.ok()?;
            e.file_type().ok()?.is_dir().then_some(())?;
            e.file_name().to_str().map(str::to_string)
        })
        .take(MAX_DIR_ENTRIES)
        .collect();
    names.sort();
    names
}
