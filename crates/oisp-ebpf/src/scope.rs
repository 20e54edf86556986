//! Which processes' system records (exec/exit/fork, files, connects, DNS answers) are reported.
//! By default only processes that spoke TLS as a client, their ancestors (exec records only) and
//! their descendants: what a process did before it became interesting is held back (its exec and
//! last connects and DNS answers) and reported when it does. `--all-processes`, `--pid` and `-p` report every process
//! the kernel lets through.
//!
//! Never reported, whatever the options: other processes running this very executable (an
//! `oisp-sensor run`/`proxy` beside `record`): their /proc reads, connects and output files are
//! the sensor's own work, not what is observed. (This process is filtered in the kernel.) Their
//! children are not excluded: what `run -- CMD` starts is observed as usual.

use crate::options::CaptureOptions;
use oisp_capture::{
    DnsMessage, NetConnect, ProcessExec, ProcessExit, ProcessFork, RawRecord, Timestamp,
};
use std::collections::{HashMap, HashSet, VecDeque};

/// Connects and DNS answers remembered per process while it is not (yet) in scope.
const BUFFERED_CONNECTS: usize = 16;

#[derive(Default)]
struct ProcInfo {
    ppid: u32,
    exec: Option<ProcessExec>,
    exec_emitted: bool,
    /// Connects and DNS answers, in order.
    connects: VecDeque<RawRecord>,
}

/// The process table and the set of processes in scope.
pub(crate) struct Scope {
    /// Every process the kernel reports is in scope.
    everything: bool,
    /// Process records (exec/exit/fork) are reported at all (`--no-process` turns them off; the
    /// table is kept for scoping).
    report_process: bool,
    procs: HashMap<u32, ProcInfo>,
    in_scope: HashSet<u32>,
    /// Decides which executables are the sensor's own.
    sensor: SensorExe,
    /// Processes running the sensor's executable (see the module documentation).
    sensors: HashSet<u32>,
}

/// The sensor's own executable, by (device, inode): a path another process ran is the same file
/// only if it names the same inode (a renamed copy of another binary does not match).
pub(crate) struct SensorExe(Option<(u64, u64)>);

impl SensorExe {
    /// This process's executable.
    pub(crate) fn current() -> SensorExe {
        SensorExe(file_id(std::path::Path::new("/proc/self/exe")))
    }

    fn matches(&self, exe: &str) -> bool {
        self.0.is_some() && !exe.is_empty() && file_id(std::path::Path::new(exe)) == self.0
    }
}

fn file_id(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

impl Scope {
    pub(crate) fn new(opts: &CaptureOptions) -> Scope {
        Self::with_sensor(opts, SensorExe::current())
    }

    pub(crate) fn with_sensor(opts: &CaptureOptions, sensor: SensorExe) -> Scope {
        Scope {
            everything: opts.all_processes || opts.pid.is_some() || opts.comm.is_some(),
            report_process: opts.process,
            procs: HashMap::new(),
            in_scope: HashSet::new(),
            sensor,
            sensors: HashSet::new(),
        }
    }

    /// Whether records of `pid` are reported.
    pub(crate) fn contains(&self, pid: u32) -> bool {
        !self.sensors.contains(&pid) && (self.everything || self.in_scope.contains(&pid))
    }

    /// Notes whether `pid` now runs the sensor's executable (`exe`).
    fn classify(&mut self, pid: u32, exe: &str) -> bool {
        let sensor = self.sensor.matches(exe);
        if sensor {
            self.sensors.insert(pid);
            self.in_scope.remove(&pid);
        } else {
            self.sensors.remove(&pid);
        }
        sensor
    }

    /// A process became interesting (it used TLS as a client): reports what was held back about
    /// it and its ancestors (exec records) and its earlier connections.
    pub(crate) fn enter(&mut self, pid: u32, out: &mut Vec<RawRecord>) {
        if self.sensors.contains(&pid) || !self.in_scope.insert(pid) || self.everything {
            return;
        }
        let mut chain = vec![pid];
        let mut cur = pid;
        while let Some(pp) = self.procs.get(&cur).map(|p| p.ppid) {
            if pp == 0 || chain.contains(&pp) || chain.len() > 64 {
                break;
            }
            chain.push(pp);
            cur = pp;
        }
        for p in chain.into_iter().rev() {
            let Some(info) = self.procs.get_mut(&p) else {
                continue;
            };
            if !info.exec_emitted {
                if let Some(ex) = info.exec.clone() {
                    info.exec_emitted = true;
                    if self.report_process {
                        out.push(RawRecord::ProcessExec(ex));
                    }
                }
            }
        }
        if let Some(info) = self.procs.get_mut(&pid) {
            out.extend(info.connects.drain(..));
        }
    }

    /// The processes running at start (`snapshot` exec records, parents first): remembered
    /// like execs not yet in scope — reported when they or a descendant come into scope (all at
    /// once when every process is reported).
    pub(crate) fn snapshot(&mut self, running: Vec<ProcessExec>, out: &mut Vec<RawRecord>) {
        for rec in running {
            let sensor = self.classify(rec.pid, &rec.exe);
            let info = self.procs.entry(rec.pid).or_default();
            info.ppid = rec.ppid;
            info.exec_emitted = self.everything;
            if self.everything && self.report_process && !sensor {
                out.push(RawRecord::ProcessExec(rec.clone()));
            }
            info.exec = Some(rec);
        }
    }

    /// A process ran a new program: reported now if in scope (a child of a process in scope is),
    /// held otherwise. A record without a cgroup (the process was gone before /proc was read)
    /// gets the one its image had before (inherited at fork): an exec does not change it.
    pub(crate) fn exec(&mut self, mut rec: ProcessExec, out: &mut Vec<RawRecord>) {
        if rec.cgroup.is_none() {
            rec.cgroup = self
                .procs
                .get(&rec.pid)
                .and_then(|p| p.exec.as_ref()?.cgroup.clone());
        }
        let (pid, ppid) = (rec.pid, rec.ppid);
        let sensor = self.classify(pid, &rec.exe);
        if !sensor && self.in_scope.contains(&ppid) {
            self.in_scope.insert(pid);
        }
        let reported = self.contains(pid);
        let info = self.procs.entry(pid).or_default();
        info.ppid = ppid;
        info.exec = Some(rec.clone());
        info.exec_emitted = reported;
        info.connects.clear();
        if reported && self.report_process {
            out.push(RawRecord::ProcessExec(rec));
        }
    }

    /// A process forked: the child inherits its parent's program and scope.
    pub(crate) fn fork(
        &mut self,
        ts: Timestamp,
        parent: u32,
        child: u32,
        out: &mut Vec<RawRecord>,
    ) {
        let inherited = self.procs.get(&parent).map(|p| p.exec.clone());
        let info = self.procs.entry(child).or_default();
        info.ppid = parent;
        if let Some(inherited) = inherited {
            if info.exec.is_none() {
                info.exec = inherited.map(|mut e| {
                    e.pid = child;
                    e.ppid = parent;
                    e
                });
                info.exec_emitted = true; // the fork record covers it
            }
        }
        if self.in_scope.contains(&parent) {
            self.in_scope.insert(child);
        }
        // Until it runs another program, a fork of the sensor is the sensor.
        if self.sensors.contains(&parent) {
            self.sensors.insert(child);
        }
        if self.contains(parent) && self.report_process {
            out.push(RawRecord::ProcessFork(ProcessFork {
                ts,
                parent_pid: parent,
                child_pid: child,
            }));
        }
    }

    /// A process exited: reported if in scope, then forgotten.
    pub(crate) fn exit(&mut self, rec: ProcessExit, out: &mut Vec<RawRecord>) {
        let pid = rec.pid;
        if self.contains(pid) && self.report_process {
            out.push(RawRecord::ProcessExit(rec));
        }
        self.procs.remove(&pid);
        self.in_scope.remove(&pid);
        self.sensors.remove(&pid);
    }

    /// A connect: reported if its process is in scope, else the last few are held for when it
    /// enters scope.
    pub(crate) fn connect(&mut self, rec: NetConnect, out: &mut Vec<RawRecord>) {
        let pid = rec.pid;
        self.network(pid, RawRecord::NetConnect(rec), out);
    }

    /// A DNS answer a process read: like a connect (it names the addresses connected to next).
    pub(crate) fn dns(&mut self, rec: DnsMessage, out: &mut Vec<RawRecord>) {
        let pid = rec.pid;
        self.network(pid, RawRecord::DnsMessage(rec), out);
    }

    fn network(&mut self, pid: u32, rec: RawRecord, out: &mut Vec<RawRecord>) {
        if self.contains(pid) {
            out.push(rec);
            return;
        }
        let info = self.procs.entry(pid).or_default();
        if info.connects.len() >= BUFFERED_CONNECTS {
            info.connects.pop_front();
        }
        info.connects.push_back(rec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(pid: u32, ppid: u32, exe: &str, cgroup: Option<&str>) -> ProcessExec {
        ProcessExec {
            ts: Timestamp::default(),
            pid,
            ppid,
            uid: 0,
            gid: 0,
            comm: exe.into(),
            exe: exe.into(),
            args: Vec::new(),
            cwd: None,
            cgroup: cgroup.map(str::to_string),
            snapshot: false,
        }
    }

    /// Another `oisp-sensor` process (this test binary stands for the sensor's executable):
    /// nothing of it is reported, not even with --all-processes, but its exec as the parent of
    /// what it starts; what it starts is observed.
    #[test]
    fn processes_running_the_sensor_are_never_reported() {
        let me = std::fs::read_link("/proc/self/exe").unwrap();
        let me = me.to_str().unwrap();
        for all in [false, true] {
            let opts = CaptureOptions {
                all_processes: all,
                ..CaptureOptions::default()
            };
            let mut s = Scope::new(&opts);
            let mut out = Vec::new();
            s.snapshot(vec![exec(10, 1, "/bin/sh", None)], &mut out);
            s.exec(exec(20, 10, me, None), &mut out);
            assert!(!s.contains(20));
            s.enter(20, &mut out);
            assert!(
                !s.contains(20),
                "a sensor's TLS does not bring it into scope"
            );
            // `run -- curl`: the fork is the sensor until it execs curl, then observed.
            s.fork(Timestamp::default(), 20, 21, &mut out);
            assert!(!s.contains(21));
            s.exec(exec(21, 20, "/usr/bin/env", None), &mut out);
            assert_eq!(s.contains(21), all);
            s.enter(21, &mut out);
            assert!(s.contains(21));
            let pids: Vec<u32> = out
                .iter()
                .filter_map(|r| match r {
                    RawRecord::ProcessExec(e) => Some(e.pid),
                    RawRecord::ProcessFork(f) => Some(f.parent_pid),
                    _ => None,
                })
                .collect();
            // Its exec shows only as the lineage of what it started (when that enters scope).
            let lineage_only =
                !all && pids.iter().position(|p| *p == 20) < pids.iter().position(|p| *p == 21);
            assert!(!pids.contains(&20) || lineage_only, "all={all}: {pids:?}");
            assert!(pids.contains(&21), "all={all}: {pids:?}");
            // A renamed copy of another program is not the sensor.
            let mut s = Scope::new(&opts);
            s.exec(exec(30, 1, "/usr/bin/env", None), &mut out);
            s.enter(30, &mut out);
            assert!(s.contains(30));
        }
    }

    #[test]
    fn an_exec_read_too_late_keeps_the_cgroup_inherited_at_fork() {
        let mut s = Scope::new(&CaptureOptions::default());
        let mut out = Vec::new();
        s.exec(
            exec(10, 1, "/bin/sh", Some("/libpod_parent/libpod-x")),
            &mut out,
        );
        s.fork(Timestamp::default(), 10, 11, &mut out);
        s.exec(exec(11, 10, "/usr/bin/curl", None), &mut out);
        s.exec(exec(12, 1, "/usr/bin/true", None), &mut out);
        s.enter(11, &mut out);
        let cgroups: Vec<(u32, Option<String>)> = out
            .iter()
            .filter_map(|r| match r {
                RawRecord::ProcessExec(e) => Some((e.pid, e.cgroup.clone())),
                _ => None,
            })
            .collect();
        let inherited = Some("/libpod_parent/libpod-x".to_string());
        assert_eq!(cgroups, [(10, inherited.clone()), (11, inherited)]);
        assert_eq!(s.procs[&12].exec.as_ref().unwrap().cgroup, None);
    }
}
