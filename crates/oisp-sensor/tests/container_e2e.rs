//! End to end, as root: a process in a container is reported with its container. Podman (from
//! Debian's packages, OCI runtime runc) runs curl in a minimal Debian root filesystem built with
//! mmdebstrap (`scripts/container-rootfs.sh`, kept under the target directory), on the host's
//! network, against the mock provider's plain-HTTP port. The events of that curl — its exec and
//! its AI call — must carry `host.container` with the id podman reports, the name given, runtime
//! `podman`; the test's own processes on the host carry no container. (A container whose every
//! process ends before the capture reads their execs is gone with its cgroup: not tested, see
//! ARCHITECTURE.md.)
//!
//! Needs root and BPF. When not root the test fails, unless OISP_SKIP_ROOT_TESTS=1 says to skip.
//! Missing podman, runc or mmdebstrap is a failure naming scripts/install-deps.sh.

mod e2e;
mod root;

use e2e::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const NAME: &str = "oisp-test-ctr";

/// The target directory the test binaries live in (`…/target/debug/oisp-sensor` → `…/target`).
fn target_dir() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_oisp-sensor"));
    bin.ancestors()
        .nth(2)
        .map(PathBuf::from)
        .expect("target directory")
}

fn need(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "container_e2e needs `{tool}` (Debian package; scripts/install-deps.sh installs it)"
    );
}

/// `--ulimit` value for the limit `what` of /proc/self/limits ("Max open files"): 4096, or this
/// process's hard limit when lower. Podman's defaults (about a million) and even this process's
/// own limits can exceed what a sandboxed host lets the runtime set; lowering is always allowed.
fn ulimit(name: &str, what: &str) -> String {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let hard = limits
        .lines()
        .find(|l| l.starts_with(what))
        .and_then(|l| l[what.len()..].split_whitespace().nth(1))
        .and_then(|h| h.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    let v = hard.min(4096);
    format!("{name}={v}:{v}")
}

fn podman(args: &[&str]) -> Command {
    let mut c = Command::new("podman");
    c.args(args);
    c
}

/// What podman says of a container it ran: id (64 hex digits) and image (`None` for `--rootfs`).
struct Ran {
    podman_pid: u32,
    id: String,
    image: Option<String>,
}

/// Runs `argv` in container `name` (root filesystem `rootfs`, host network) to completion.
fn run_container(s: &Session, rootfs: &std::path::Path, name: &str, argv: &[&str]) -> Ran {
    let _ = podman(&["rm", "-f", name]).output();
    let nofile = ulimit("nofile", "Max open files");
    let nproc = ulimit("nproc", "Max processes");
    let mut c = podman(&[
        "run",
        "--runtime",
        "runc",
        "--network",
        "host",
        "--ulimit",
        &nofile,
        "--ulimit",
        &nproc,
        "--name",
        name,
        "--rootfs",
    ]);
    c.arg(rootfs).args(argv);
    let podman_pid = s.client(&format!("podman run {name}"), c);
    let inspect = run(
        &mut podman(&[
            "inspect",
            "--format",
            "{{.Id}} {{.Name}} {{.ImageName}}",
            name,
        ]),
        "podman inspect",
    );
    let _ = podman(&["rm", "-f", name]).output();
    let mut parts = inspect.split_whitespace();
    let id = parts.next().unwrap_or_default().to_string();
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "podman inspect: {inspect:?}"
    );
    assert_eq!(parts.next(), Some(name), "podman inspect: {inspect:?}");
    Ran {
        podman_pid,
        id,
        image: parts.next().map(str::to_string),
    }
}

/// The curl of container `ran` (named `name`) made its call with `prompt`, and its exec, request
/// and response carry the container as podman reports it.
fn check_container(evs: &[Value], ran: &Ran, name: &str, prompt: &str) {
    let curl: Vec<&Value> = evs
        .iter()
        .filter(|e| e["process"]["exe"] == "/usr/bin/curl")
        .filter(|e| e["host"]["container"]["id"] == ran.id.as_str())
        .collect();
    let all_curl: Vec<&Value> = evs
        .iter()
        .filter(|e| e["process"]["exe"] == "/usr/bin/curl")
        .collect();
    let request = curl
        .iter()
        .find(|e| e["event_type"] == "ai.request")
        .unwrap_or_else(|| panic!("{name}: no ai.request of curl in {}: {all_curl:#?}", ran.id));
    assert!(
        request["data"]["messages"].to_string().contains(prompt),
        "{name}: {request}"
    );
    for t in ["process.exec", "ai.request", "ai.response"] {
        let ev = curl
            .iter()
            .find(|e| e["event_type"] == t)
            .unwrap_or_else(|| panic!("{name}: no {t} of curl in {}: {all_curl:#?}", ran.id));
        let c = &ev["host"]["container"];
        assert_eq!(c["name"], name, "{t}: {ev}");
        assert_eq!(c["runtime"], "podman", "{t}: {ev}");
        // A --rootfs container has no image: podman reports none, nor may the event.
        match ran.image.as_deref() {
            Some(img) => assert_eq!(c["image"], img, "{t}: {ev}"),
            None => assert!(c["image"].is_null(), "{t}: {ev}"),
        }
        assert!(ev["host"]["k8s"].is_null(), "{t}: {ev}");
        let cid = ev["process"]["container_id"].as_str().unwrap_or_default();
        assert_eq!(cid, ran.id, "{t}: process.container_id: {ev}");
    }
    // Nothing on the host side: podman itself carries no container.
    for e in evs.iter().filter(|e| e["process"]["pid"] == ran.podman_pid) {
        assert!(
            e["host"].is_null(),
            "podman on the host has a container: {e}"
        );
    }
    eprintln!(
        "container_e2e: {} events of curl in {name} carry container {} (podman)",
        curl.len(),
        &ran.id[..12]
    );
}

fn curl_args(s: &Session, prompt: &str) -> Vec<String> {
    let body =
        format!(r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"{prompt}"}}]}}"#);
    [
        "curl",
        "-sS",
        "-o",
        "/dev/null",
        "-H",
        &format!("Authorization: Bearer {KEY}"),
        "-H",
        "content-type: application/json",
        "-d",
        &body,
        &format!("{}/v1/chat/completions", s.plain_base()),
    ]
    .map(str::to_string)
    .to_vec()
}

#[test]
fn curl_in_podman_containers_is_reported_with_its_container() {
    if !root::root_or_skip("container_e2e") {
        return;
    }
    for tool in ["podman", "runc", "mmdebstrap"] {
        need(tool);
    }
    let rootfs = target_dir().join("oisp-container-rootfs");
    let started = std::time::Instant::now();
    run(
        Command::new(repo().join("scripts/container-rootfs.sh")).arg(&rootfs),
        "container-rootfs.sh",
    );
    eprintln!(
        "container_e2e: root filesystem ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let Some(mut s) = Session::start("container") else {
        return;
    };
    // A shell that outlives curl: the container (and its cgroup) stays while the capture reads
    // the execs; curl, the short-lived child, may be gone by then (its cgroup then comes from
    // the kernel's cgroup id).
    let prompt = "Hello from a podman container";
    let quoted: Vec<String> = curl_args(&s, prompt)
        .iter()
        .map(|a| format!("'{a}'"))
        .collect();
    let script = format!("{}; st=$?; sleep 1; exit $st", quoted.join(" "));
    let shell = run_container(&s, &rootfs, NAME, &["/bin/sh", "-c", &script]);
    let evs = s.stop();

    check_container(&evs, &shell, NAME, prompt);
    let sh_exec = evs.iter().find(|e| {
        e["event_type"] == "process.exec"
            && e["host"]["container"]["id"] == shell.id.as_str()
            && e["process"]["exe"] != "/usr/bin/curl"
    });
    assert!(
        sh_exec.is_some(),
        "no process.exec of the shell in its container"
    );
}
