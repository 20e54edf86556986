//! Helpers shared by the integration tests: vendored file access, semantic
//! JSON comparison and a schema-coverage walker.
#![allow(dead_code)]

pub mod fixtures_ai;
pub mod fixtures_envelope;
pub mod fixtures_sys;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub const BASE: &str = "https://oisp.dev/schema/v0.1/";

/// `vendor/oisp-spec` in this checkout.
pub fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../vendor/oisp-spec")
}

/// Every example event: (file name, JSON).
pub fn examples() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(spec_dir().join("examples"))
        .expect("examples dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read example");
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).expect("example is JSON"))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every vendored schema keyed by its `$id`.
pub fn schemas() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let root = spec_dir().join("schema/v0.1");
    for rel in [
        "envelope.schema.json",
        "common/actor.schema.json",
        "common/app.schema.json",
        "common/confidence.schema.json",
        "common/host.schema.json",
        "common/process.schema.json",
        "common/web_context.schema.json",
        "events/agent.schema.json",
        "events/ai.schema.json",
        "events/file.schema.json",
        "events/network.schema.json",
        "events/process.schema.json",
    ] {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(root.join(rel)).unwrap()).unwrap();
        let id = v["$id"].as_str().unwrap().to_owned();
        assert_eq!(id, format!("{BASE}{rel}"));
        out.insert(id, v);
    }
    out
}

/// Looks up `uri` (`<document>#<json pointer>`) in `schemas`.
pub fn lookup<'a>(schemas: &'a BTreeMap<String, Value>, uri: &str) -> &'a Value {
    let (doc, ptr) = uri.split_once('#').unwrap_or((uri, ""));
    schemas[doc]
        .pointer(ptr)
        .unwrap_or_else(|| panic!("no {ptr} in {doc}"))
}

/// Resolves `reference` relative to the document URI `base`.
fn join(base: &str, reference: &str) -> String {
    let (file, frag) = reference.split_once('#').unwrap_or((reference, ""));
    let doc_base = base.split('#').next().unwrap();
    let doc = if file.is_empty() {
        doc_base.to_owned()
    } else {
        let mut parts: Vec<&str> = doc_base.split('/').collect();
        parts.pop();
        for seg in file.split('/') {
            match seg {
                ".." => {
                    parts.pop();
                }
                "." => {}
                s => parts.push(s),
            }
        }
        parts.join("/")
    };
    format!("{doc}#{frag}")
}

/// Semantic JSON equality: numbers compare by value (so `0.0 == 0.0`
/// whatever the representation), objects ignore key order. Returns the first
/// differing path.
pub fn semantic_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let same = match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(i), Some(j), _, _) => i == j,
                (_, _, Some(i), Some(j)) => i == j,
                _ => x.as_f64() == y.as_f64(),
            };
            (!same).then(|| format!("{path}: {a} != {b}"))
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(va), Some(vb)) => semantic_diff(va, vb, &format!("{path}/{k}")),
                _ => Some(format!("{path}/{k}: present on one side only")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| semantic_diff(va, vb, &format!("{path}/{i}"))),
        _ => (a != b).then(|| format!("{path}: {a} != {b}")),
    }
}

/// Walks `instance` alongside the schema at `uri` and reports every
/// schema-declared property missing from the instance (`missing`) and every
/// instance key the schema does not declare (`undeclared`). `$ref`s are
/// followed; of a `oneOf`, only object branches with properties whose
/// required keys the instance has are walked.
pub fn coverage(
    schemas: &BTreeMap<String, Value>,
    uri: &str,
    instance: &Value,
) -> (Vec<String>, Vec<String>) {
    let mut missing = Vec::new();
    let mut undeclared = Vec::new();
    walk(schemas, uri, instance, "", &mut missing, &mut undeclared);
    (missing, undeclared)
}

fn walk(
    schemas: &BTreeMap<String, Value>,
    uri: &str,
    instance: &Value,
    path: &str,
    missing: &mut Vec<String>,
    undeclared: &mut Vec<String>,
) {
    let node = lookup(schemas, uri);
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let target = join(uri, r);
        walk(schemas, &target, instance, path, missing, undeclared);
    }
    if let (Some(props), Some(obj)) = (
        node.get("properties").and_then(Value::as_object),
        instance.as_object(),
    ) {
        for key in props.keys() {
            let escaped = key.replace('~', "~0").replace('/', "~1");
            match obj.get(key) {
                None => missing.push(format!("{path}/{key}")),
                Some(v) => walk(
                    schemas,
                    &format!("{uri}/properties/{escaped}"),
                    v,
                    &format!("{path}/{key}"),
                    missing,
                    undeclared,
                ),
            }
        }
        for key in obj.keys().filter(|k| !props.contains_key(*k)) {
            undeclared.push(format!("{path}/{key}"));
        }
    }
    if let (Some(_), Some(items)) = (node.get("items"), instance.as_array()) {
        for (i, item) in items.iter().enumerate() {
            walk(
                schemas,
                &format!("{uri}/items"),
                item,
                &format!("{path}/{i}"),
                missing,
                undeclared,
            );
        }
    }
    if let (Some(branches), Some(obj)) = (
        node.get("oneOf").and_then(Value::as_array),
        instance.as_object(),
    ) {
        for i in 0..branches.len() {
            let branch_uri = format!("{uri}/oneOf/{i}");
            let mut resolved = branch_uri.clone();
            while let Some(r) = lookup(schemas, &resolved)
                .get("$ref")
                .and_then(Value::as_str)
            {
                resolved = join(&resolved, r);
            }
            let b = lookup(schemas, &resolved);
            let fits = b.get("properties").is_some()
                && b.get("required")
                    .and_then(Value::as_array)
                    .is_none_or(|req| req.iter().all(|k| obj.contains_key(k.as_str().unwrap())));
            if fits {
                walk(schemas, &resolved, instance, path, missing, undeclared);
            }
        }
    }
}

/// Panics with every message when `result` is an error.
pub fn assert_valid(label: &str, result: Result<(), Vec<String>>) {
    if let Err(errors) = result {
        panic!("{label} failed validation:\n  {}", errors.join("\n  "));
    }
}
