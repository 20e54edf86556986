//! Process, file and network records → `process.*`, `file.*`, `network.connect` events.

use super::context::EventContext;
use super::Decoder;
use oisp_capture::{
    FileOp, FileOpKind, NetConnect, ProcessExec, ProcessExit, ProcessFork, Transport,
};
use oisp_event::{
    Endpoint, Event, FileDelete, FileOpen, FileRead, FileRename, FileWrite, NetworkConnect,
    OpenFlag, Protocol, TerminationType,
};
use std::net::IpAddr;

/// Shells whose exec is flagged `is_shell`.
const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "fish", "ksh", "csh", "tcsh", "ash",
];
/// Interpreters whose first non-flag argument is reported as `script_path`.
const INTERPRETERS: &[&str] = &[
    "python", "node", "ruby", "perl", "php", "deno", "bun", "bash", "sh",
];

impl Decoder {
    pub(super) fn exec_event(&mut self, e: &ProcessExec) -> Event {
        self.procs.exec(e);
        let ctx = EventContext::for_system(self, e.pid, e.pid);
        let id = ctx.event_id(self, "exec", e.ts);
        let name = e.exe.rsplit('/').next().unwrap_or("");
        let interp = INTERPRETERS
            .iter()
            .find(|i| name.starts_with(*i))
            .map(|_| name.to_string());
        let script = interp
            .as_ref()
            .and_then(|_| e.args.iter().skip(1).find(|a| !a.starts_with('-')).cloned());
        let data = oisp_event::ProcessExec {
            exe: e.exe.clone(),
            args: Some(e.args.clone()),
            cwd: e.cwd.clone(),
            is_shell: Some(SHELLS.contains(&name)),
            is_script: Some(script.is_some()),
            interpreter: interp,
            script_path: script,
            ..Default::default()
        };
        let mut ev = if e.snapshot {
            // Running before the capture started: read from /proc, not seen exec'ing.
            let mut ctx = ctx;
            ctx.confidence.reasons = vec!["procfs_snapshot".into()];
            ctx.event(data, e.ts, &id, "procfs_snapshot")
                .with_source(
                    oisp_event::Source::sensor()
                        .with_capture_method(oisp_event::CaptureMethod::Other)
                        .with_capture_point("procfs_snapshot"),
                )
                .with_attr("snapshot", true)
        } else {
            ctx.event(data, e.ts, &id, "sched_process_exec")
        };
        if let Some(actor) = actor(e.uid, e.gid) {
            ev = ev.with_actor(actor);
        }
        ev
    }

    pub(super) fn exit_event(&mut self, e: &ProcessExit) -> Event {
        let ctx = EventContext::for_system(self, e.pid, e.pid);
        let runtime_ms = self
            .procs
            .exit(e.pid, e.ts)
            .map(|p| e.ts.mono_ns.saturating_sub(p.started.mono_ns) / 1_000_000);
        let id = ctx.event_id(self, "exit", e.ts);
        let data = oisp_event::ProcessExit {
            exit_code: e.exit_code.into(),
            signal: e.signal.map(i64::from),
            signal_name: e.signal.and_then(signal_name).map(str::to_string),
            runtime_ms,
            termination_type: Some(match e.signal {
                None => TerminationType::Normal,
                Some(_) => TerminationType::Signaled,
            }),
            ..Default::default()
        };
        ctx.event(data, e.ts, &id, "sched_process_exit")
    }

    pub(super) fn fork_event(&mut self, f: &ProcessFork) -> Event {
        let ctx = EventContext::for_system(self, f.parent_pid, f.parent_pid);
        self.procs.fork(f.parent_pid, f.child_pid, f.ts);
        let id = ctx.event_id(self, "fork", f.ts);
        let data = oisp_event::ProcessFork {
            child_pid: f.child_pid.into(),
            is_thread: Some(false),
            ..Default::default()
        };
        ctx.event(data, f.ts, &id, "sched_process_fork")
    }

    pub(super) fn file_event(&mut self, f: &FileOp) -> Event {
        let ctx = EventContext::for_system(self, f.pid, f.tid);
        let id = ctx.event_id(self, "file", f.ts);
        let (data, point): (oisp_event::EventData, &str) = match f.kind {
            FileOpKind::Open => (
                FileOpen {
                    path: f.path.clone(),
                    flags: open_flags(f.flags.unwrap_or(0)),
                    fd: f.result.filter(|r| *r >= 0),
                    ..Default::default()
                }
                .into(),
                "sys_enter_openat",
            ),
            FileOpKind::Read => (
                FileRead {
                    path: f.path.clone(),
                    bytes_read: f.bytes,
                    ..Default::default()
                }
                .into(),
                "sys_enter_read",
            ),
            FileOpKind::Write => (
                FileWrite {
                    path: f.path.clone(),
                    bytes_written: f.bytes,
                    ..Default::default()
                }
                .into(),
                "sys_enter_write",
            ),
            FileOpKind::Delete => (
                FileDelete {
                    path: f.path.clone(),
                    ..Default::default()
                }
                .into(),
                "sys_enter_unlinkat",
            ),
            FileOpKind::Rename => (
                FileRename {
                    old_path: f.path.clone(),
                    new_path: f.new_path.clone().unwrap_or_default(),
                    ..Default::default()
                }
                .into(),
                "sys_enter_renameat2",
            ),
        };
        let mut ev = ctx.event(data, f.ts, &id, point);
        if let Some(r) = f.result.filter(|r| *r < 0) {
            ev = ev.with_attr("errno", -r);
        }
        ev
    }

    /// `domain`: the server name of the TLS session later seen on this connection, if any; else
    /// the name a DNS answer gave to the address.
    pub(super) fn connect_event(&mut self, n: &NetConnect, domain: Option<&str>) -> Event {
        let from_dns = match domain {
            Some(_) => None,
            None => self.dns_names.name_of(n.remote.ip()).map(str::to_string),
        };
        let domain = domain.or(from_dns.as_deref());
        let ctx = EventContext::for_system(self, n.pid, n.tid);
        let id = ctx.event_id(self, "connect", n.ts);
        // EINPROGRESS (non-blocking connect) is not a failure.
        let failed = n.result.filter(|r| *r < 0 && *r != -115);
        let data = NetworkConnect {
            dest: Endpoint {
                domain: domain.map(str::to_string),
                ..endpoint(n.remote.ip(), n.remote.port())
            },
            src: n.local.map(|a| endpoint(a.ip(), a.port())),
            protocol: Some(match n.transport {
                Transport::Tcp => Protocol::Tcp,
                Transport::Udp => Protocol::Udp,
            }),
            success: n.result.map(|_| failed.is_none()),
            error: failed.map(|r| format!("errno {}", -r)),
            ..Default::default()
        };
        let mut ev = ctx.event(data, n.ts, &id, "sys_enter_connect");
        if from_dns.is_some() {
            ev = ev.with_attr("domain_from", "dns");
        }
        // A server name that is an AI provider's (from the bundle's domains) names the provider.
        match domain.and_then(crate::providers::provider_for_host) {
            Some(p) => ev.with_attr("provider_name", p.name()),
            None => ev,
        }
    }
}

fn endpoint(ip: IpAddr, port: u16) -> Endpoint {
    Endpoint {
        ip: Some(ip.to_string()),
        port: Some(port),
        is_private: Some(is_private(ip)),
        ..Default::default()
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => v.is_private() || v.is_loopback() || v.is_link_local(),
        IpAddr::V6(v) => {
            v.is_loopback()
                || (v.segments()[0] & 0xfe00) == 0xfc00
                || (v.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// open(2) flags → OISP flag names.
fn open_flags(flags: u32) -> Vec<OpenFlag> {
    const O_WRONLY: u32 = 0o1;
    const O_RDWR: u32 = 0o2;
    const O_CREAT: u32 = 0o100;
    const O_EXCL: u32 = 0o200;
    const O_TRUNC: u32 = 0o1000;
    const O_APPEND: u32 = 0o2000;
    let mut out = Vec::new();
    match flags & 0o3 {
        O_WRONLY => out.push(OpenFlag::Write),
        O_RDWR => {
            out.push(OpenFlag::Read);
            out.push(OpenFlag::Write);
        }
        _ => out.push(OpenFlag::Read),
    }
    for (bit, f) in [
        (O_APPEND, OpenFlag::Append),
        (O_CREAT, OpenFlag::Create),
        (O_TRUNC, OpenFlag::Truncate),
        (O_EXCL, OpenFlag::Exclusive),
    ] {
        if flags & bit != 0 {
            out.push(f);
        }
    }
    out
}

fn actor(uid: u32, gid: u32) -> Option<oisp_event::Actor> {
    Some(oisp_event::Actor {
        uid: Some(uid.into()),
        gid: Some(gid.into()),
        ..Default::default()
    })
}

fn signal_name(sig: u32) -> Option<&'static str> {
    Some(match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return None,
    })
}
