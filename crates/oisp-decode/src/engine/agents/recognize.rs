//! Which agent a process is: known agent programs by executable and command line.
//!
//! Pure: reads only the process table's exec records. A process is a *known agent* when its
//! executable, its `argv[0]` or (for an interpreter) its script names one of [`KNOWN`] — by
//! file name (extension dropped) or by a directory of its path (an npm package such as
//! `@google/gemini-cli`, a versioned install such as `~/.local/share/claude/versions/2.1.3`).
//! Any other process that makes AI calls is an agent of its own, named after its script or
//! executable (see [`AgentIdentity::of_caller`]).

use super::super::procs::ProcEntry;
use oisp_event::AgentType;

/// What an agent is called and what kind it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentIdentity {
    /// e.g. `claude-code`, `codex`, `gemini-cli`, or a script's file name.
    pub name: String,
    pub kind: AgentType,
    /// Whether the name came from [`KNOWN`] (else from the calling process itself).
    pub known: bool,
}

/// Known agent programs: (name in a path, agent name).
pub const KNOWN: &[(&str, &str)] = &[
    ("claude", "claude-code"),
    ("claude-code", "claude-code"),
    ("codex", "codex"),
    ("gemini", "gemini-cli"),
    ("gemini-cli", "gemini-cli"),
    ("aider", "aider"),
    ("opencode", "opencode"),
    ("goose", "goose"),
    ("cursor-agent", "cursor-agent"),
    ("qwen", "qwen-code"),
    ("qwen-code", "qwen-code"),
    ("amp", "amp"),
    ("crush", "crush"),
    ("copilot", "copilot-cli"),
];

/// Interpreters whose first non-option argument is the program they run.
const INTERPRETERS: &[&str] = &["node", "bun", "deno", "python", "ruby", "perl"];

fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn stem(name: &str) -> &str {
    for ext in [".js", ".mjs", ".cjs", ".ts", ".py", ".exe"] {
        if let Some(s) = name.strip_suffix(ext) {
            return s;
        }
    }
    name
}

fn is_interpreter(name: &str) -> bool {
    INTERPRETERS.iter().any(|i| name.starts_with(i))
}

/// The script an interpreter runs (first argument after `argv[0]` not starting with `-`).
fn script(e: &ProcEntry) -> Option<&str> {
    let exe = base(&e.image.exe);
    let argv0 = e.image.args.first().map(|a| base(a)).unwrap_or("");
    if !is_interpreter(exe) && !is_interpreter(argv0) {
        return None;
    }
    e.image
        .args
        .iter()
        .skip(1)
        .map(String::as_str)
        .find(|a| !a.starts_with('-'))
}

fn known_name(path: &str) -> Option<&'static str> {
    let by_segment = |seg: &str| KNOWN.iter().find(|(k, _)| *k == stem(seg)).map(|(_, n)| *n);
    if let Some(n) = by_segment(base(path)) {
        return Some(n);
    }
    // A versioned install (`.../claude/versions/X`) or a directory of an npm package
    // (`.../node_modules/@google/gemini-cli/dist/index.js`); not any directory (a user named
    // `claude` does not make everything in their home an agent).
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let in_package = segs.contains(&"node_modules");
    segs.iter()
        .enumerate()
        .rev()
        .skip(1)
        .filter(|(i, _)| in_package || segs.get(i + 1) == Some(&"versions"))
        .find_map(|(_, s)| by_segment(s))
}

/// The known agent `e` runs, if any.
pub fn known_agent(e: &ProcEntry) -> Option<AgentIdentity> {
    let argv0 = e.image.args.first().map(String::as_str).unwrap_or("");
    let candidates = [Some(e.image.exe.as_str()), Some(argv0), script(e)];
    candidates
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .find_map(known_name)
        .map(|name| AgentIdentity {
            name: name.to_string(),
            kind: AgentType::Cli,
            known: true,
        })
}

impl AgentIdentity {
    /// An agent named after the process that makes AI calls: its script, else its executable
    /// (else its `comm`).
    pub fn of_caller(e: Option<&ProcEntry>) -> AgentIdentity {
        let name = e
            .and_then(|e| script(e).map(|s| base(s).to_string()))
            .or_else(|| e.map(|e| e.name().to_string()))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "unknown".to_string());
        AgentIdentity {
            name,
            kind: AgentType::Other,
            known: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oisp_capture::{ProcessExec, Timestamp};

    fn entry(exe: &str, args: &[&str]) -> ProcEntry {
        ProcEntry {
            image: ProcessExec {
                ts: Timestamp::default(),
                pid: 10,
                ppid: 1,
                uid: 0,
                gid: 0,
                comm: String::new(),
                exe: exe.into(),
                args: args.iter().map(|s| s.to_string()).collect(),
                cwd: None,
                cgroup: None,
                snapshot: false,
            },
            started: Timestamp::default(),
            exited: None,
        }
    }

    #[test]
    fn known_agents_by_executable_argv0_package_and_script() {
        let name = |e: &ProcEntry| known_agent(e).map(|a| a.name);
        assert_eq!(
            name(&entry(
                "/root/.local/share/claude/versions/2.1.335",
                &["claude", "-p"]
            )),
            Some("claude-code".into())
        );
        assert_eq!(
            name(&entry(
                "/usr/lib/node_modules/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex",
                &["codex", "exec"]
            )),
            Some("codex".into())
        );
        assert_eq!(
            name(&entry(
                "/usr/bin/node",
                &[
                    "node",
                    "--no-warnings",
                    "/opt/gemini/node_modules/@google/gemini-cli/dist/index.js"
                ]
            )),
            Some("gemini-cli".into())
        );
        assert_eq!(
            name(&entry(
                "/usr/bin/python3.11",
                &["python3", "/usr/local/bin/aider", "--yes"]
            )),
            Some("aider".into())
        );
        assert_eq!(
            name(&entry("/usr/bin/bash", &["bash", "-c", "claude"])),
            None
        );
        assert_eq!(
            name(&entry("/usr/bin/python3", &["python3", "agent.py"])),
            None
        );
        assert_eq!(
            name(&entry("/home/claude/venv/bin/python3", &["python3"])),
            None
        );
    }

    #[test]
    fn other_callers_are_named_after_their_script_or_executable() {
        let e = entry(
            "/usr/bin/python3.11",
            &["python3", "-u", "/work/tools/agent.py"],
        );
        assert_eq!(AgentIdentity::of_caller(Some(&e)).name, "agent.py");
        let e = entry("/usr/bin/curl", &["curl", "-s"]);
        assert_eq!(AgentIdentity::of_caller(Some(&e)).name, "curl");
        assert_eq!(AgentIdentity::of_caller(None).name, "unknown");
    }
}
