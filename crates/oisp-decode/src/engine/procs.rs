//! Process table built from process records, so every event can name its process.
//!
//! Pure: it only learns from `ProcessExec`/`ProcessFork`/`ProcessExit` records. Bounded: at most
//! [`MAX_PROCESSES`] entries; exited processes are kept until the table is full (late events of a
//! process still resolve), then the oldest exited ones go first.

use oisp_capture::{ProcessExec, Timestamp};
use oisp_event::{AncestorProcess, ParentProcess, ProcessInfo};
use std::collections::HashMap;

/// Upper bound on remembered processes.
pub const MAX_PROCESSES: usize = 65_536;

/// What is known about one process: the image it runs (from its exec, or inherited from its
/// parent at fork) and its lifetime.
#[derive(Debug, Clone)]
pub struct ProcEntry {
    /// The exec record of the running image; `pid`/`ppid` are this process's own.
    pub image: ProcessExec,
    pub started: Timestamp,
    pub exited: Option<Timestamp>,
}

impl ProcEntry {
    /// The process name: basename of the executable, else `comm`.
    pub fn name(&self) -> &str {
        let base = self.image.exe.rsplit('/').next().unwrap_or("");
        if base.is_empty() {
            &self.image.comm
        } else {
            base
        }
    }
}

#[derive(Debug, Default)]
pub struct ProcessTable {
    procs: HashMap<u32, ProcEntry>,
}

impl ProcessTable {
    pub fn exec(&mut self, e: &ProcessExec) {
        self.make_room();
        self.procs.insert(
            e.pid,
            ProcEntry {
                image: e.clone(),
                started: e.ts,
                exited: None,
            },
        );
    }

    /// A fork: the child starts as a copy of its parent (same image until it execs).
    pub fn fork(&mut self, parent: u32, child: u32, ts: Timestamp) {
        self.make_room();
        let image = match self.procs.get(&parent) {
            Some(p) => ProcessExec {
                pid: child,
                ppid: parent,
                ..p.image.clone()
            },
            None => ProcessExec {
                ts,
                pid: child,
                ppid: parent,
                uid: 0,
                gid: 0,
                comm: String::new(),
                exe: String::new(),
                args: Vec::new(),
                cwd: None,
                cgroup: None,
                snapshot: false,
            },
        };
        self.procs.insert(
            child,
            ProcEntry {
                image,
                started: ts,
                exited: None,
            },
        );
    }

    /// Marks `pid` exited; returns its entry (for the runtime).
    pub fn exit(&mut self, pid: u32, ts: Timestamp) -> Option<&ProcEntry> {
        let e = self.procs.get_mut(&pid)?;
        e.exited = Some(ts);
        Some(e)
    }

    pub fn get(&self, pid: u32) -> Option<&ProcEntry> {
        self.procs.get(&pid)
    }

    fn make_room(&mut self) {
        if self.procs.len() < MAX_PROCESSES {
            return;
        }
        // Drop the oldest exited tenth; if none exited, the oldest tenth overall.
        let mut victims: Vec<(Timestamp, u32, bool)> = self
            .procs
            .values()
            .map(|p| {
                (
                    p.exited.unwrap_or(p.started),
                    p.image.pid,
                    p.exited.is_some(),
                )
            })
            .collect();
        victims.sort_by_key(|&(ts, pid, exited)| (!exited, ts, pid));
        for (_, pid, _) in victims.into_iter().take(MAX_PROCESSES / 10) {
            self.procs.remove(&pid);
        }
    }

    /// The OISP process context for `pid` (and thread `tid` when non-zero): everything known,
    /// with parent and up to 8 ancestors.
    pub fn context(&self, pid: u32, tid: u32) -> ProcessInfo {
        let mut info = ProcessInfo {
            pid: Some(pid.into()),
            thread_id: (tid != 0 && tid != pid).then_some(tid.into()),
            ..Default::default()
        };
        let Some(p) = self.procs.get(&pid) else {
            return info;
        };
        info.ppid = Some(p.image.ppid.into());
        if !p.image.exe.is_empty() {
            info.exe = Some(p.image.exe.clone());
        }
        let name = p.name();
        if !name.is_empty() {
            info.name = Some(name.to_string());
        }
        if !p.image.args.is_empty() {
            info.cmdline = Some(p.image.args.join(" "));
            info.cmdline_args = Some(p.image.args.clone());
        }
        info.cwd = p.image.cwd.clone();
        info.cgroup = p.image.cgroup.clone();
        info.container_id = p.image.cgroup.as_deref().and_then(container_id_from_cgroup);
        if let Some(parent) = self.procs.get(&p.image.ppid) {
            info.parent = Some(ParentProcess {
                pid: Some(parent.image.pid.into()),
                exe: non_empty(&parent.image.exe),
                name: non_empty(parent.name()),
                cmdline: (!parent.image.args.is_empty()).then(|| parent.image.args.join(" ")),
            });
        }
        let mut ancestors = Vec::new();
        let mut cur = p.image.ppid;
        while ancestors.len() < 8 && cur > 1 {
            let Some(a) = self.procs.get(&cur) else { break };
            ancestors.push(AncestorProcess {
                pid: Some(a.image.pid.into()),
                exe: non_empty(&a.image.exe),
                name: non_empty(a.name()),
            });
            if a.image.ppid == cur {
                break;
            }
            cur = a.image.ppid;
        }
        if !ancestors.is_empty() {
            info.ancestors = Some(ancestors);
        }
        info
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Extracts a 64-hex-digit container id from a cgroup path such as
/// `/system.slice/docker-<id>.scope` or `/kubepods/.../cri-containerd-<id>.scope`.
pub fn container_id_from_cgroup(cgroup: &str) -> Option<String> {
    cgroup.split(['/', '-', '.', ':']).find_map(|part| {
        (part.len() == 64 && part.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| part.to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids_are_found_in_common_cgroup_layouts() {
        let id = "a".repeat(64);
        assert_eq!(
            container_id_from_cgroup(&format!("0::/system.slice/docker-{id}.scope")),
            Some(id.clone())
        );
        assert_eq!(
            container_id_from_cgroup(&format!(
                "/kubepods/besteffort/pod1/cri-containerd-{id}.scope"
            )),
            Some(id)
        );
        assert_eq!(
            container_id_from_cgroup("0::/user.slice/session-3.scope"),
            None
        );
    }
}
