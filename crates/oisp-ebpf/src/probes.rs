//! Which programs a capture loads, and attaching them: the syscall and process tracepoints once
//! at start, the TLS hooks a stack located in a file once per file (dev, inode).

use crate::options::{Attachment, CaptureError, CaptureOptions, ProcNeeds, Unlocated};
use crate::tls::{HookGroup, Linkage, Origin};
use libbpf_rs::{Link, Object, ProgramMut, UprobeMultiOpts, UprobeOpts};
use std::collections::HashSet;
use std::path::Path;

/// Why a syscall tracepoint program is loaded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    /// Ties TLS sessions to their socket.
    Tls,
    /// Needed by TLS (library discovery, socket of a session) or files.
    Open,
    File,
    Net,
    /// Follows connected sockets for plaintext HTTP (also needs Tls, Open and Net's programs).
    Plain,
}

/// (program, group, tracepoint) of every syscall tracepoint program (category `syscalls`).
const SYSCALL_PROGRAMS: &[(&str, Group, &str)] = &[
    ("tls_sys_read", Group::Tls, "sys_enter_read"),
    ("tls_sys_recvfrom", Group::Tls, "sys_enter_recvfrom"),
    ("tls_sys_readv", Group::Tls, "sys_enter_readv"),
    ("tls_sys_recvmsg", Group::Tls, "sys_enter_recvmsg"),
    ("tls_sys_sendto", Group::Tls, "sys_enter_sendto"),
    ("tls_sys_writev", Group::Tls, "sys_enter_writev"),
    ("tls_sys_sendmsg", Group::Tls, "sys_enter_sendmsg"),
    ("file_openat_enter", Group::Open, "sys_enter_openat"),
    ("file_openat_exit", Group::Open, "sys_exit_openat"),
    ("file_open_enter", Group::Open, "sys_enter_open"),
    ("file_open_exit", Group::Open, "sys_exit_open"),
    ("file_creat_enter", Group::Open, "sys_enter_creat"),
    ("file_creat_exit", Group::Open, "sys_exit_creat"),
    ("sys_write_enter", Group::Open, "sys_enter_write"),
    ("file_pwrite_enter", Group::File, "sys_enter_pwrite64"),
    ("file_writev_enter", Group::File, "sys_enter_writev"),
    ("file_renameat2_enter", Group::File, "sys_enter_renameat2"),
    ("file_renameat2_exit", Group::File, "sys_exit_renameat2"),
    ("file_renameat_enter", Group::File, "sys_enter_renameat"),
    ("file_renameat_exit", Group::File, "sys_exit_renameat"),
    ("file_rename_enter", Group::File, "sys_enter_rename"),
    ("file_rename_exit", Group::File, "sys_exit_rename"),
    ("file_unlinkat_enter", Group::File, "sys_enter_unlinkat"),
    ("file_unlinkat_exit", Group::File, "sys_exit_unlinkat"),
    ("file_unlink_enter", Group::File, "sys_enter_unlink"),
    ("file_unlink_exit", Group::File, "sys_exit_unlink"),
    ("net_connect_enter", Group::Net, "sys_enter_connect"),
    ("net_connect_exit", Group::Net, "sys_exit_connect"),
    ("plain_read_exit", Group::Plain, "sys_exit_read"),
    ("plain_recvfrom_exit", Group::Plain, "sys_exit_recvfrom"),
    ("plain_readv_exit", Group::Plain, "sys_exit_readv"),
    ("plain_recvmsg_exit", Group::Plain, "sys_exit_recvmsg"),
    ("plain_write_exit", Group::Plain, "sys_exit_write"),
    ("plain_sendto_exit", Group::Plain, "sys_exit_sendto"),
    ("plain_writev_exit", Group::Plain, "sys_exit_writev"),
    ("plain_sendmsg_exit", Group::Plain, "sys_exit_sendmsg"),
    ("plain_close", Group::Plain, "sys_enter_close"),
];

/// (program, tracepoint) of the process programs (BTF tracepoints, category `sched`).
const PROCESS_PROGRAMS: [(&str, &str); 3] = [
    ("proc_exec", "sched_process_exec"),
    ("proc_exit", "sched_process_exit"),
    ("proc_fork", "sched_process_fork"),
];

fn group_wanted(g: Group, o: &CaptureOptions) -> bool {
    match g {
        Group::Tls => o.ssl || o.plaintext,
        Group::Open => o.ssl || o.file || o.plaintext,
        Group::File => o.file,
        Group::Net => o.network || o.plaintext,
        Group::Plain => o.plaintext,
    }
}

fn process_wanted(name: &str, o: &CaptureOptions) -> bool {
    let need = ProcNeeds::of(o);
    match name {
        "proc_exec" => need.exec,
        "proc_exit" => need.exit,
        _ => need.fork,
    }
}

/// Whether the program `name` (ELF section `section`) is loaded for `opts`. Every uprobe program
/// belongs to a TLS stack; session uprobe programs only load when `session` says the kernel
/// takes them (the pairs also load then: executables with a stack linked in keep them).
pub(crate) fn wanted(name: &str, section: &str, opts: &CaptureOptions, session: bool) -> bool {
    if section.starts_with("uprobe.session") {
        return opts.ssl && session;
    }
    if section.starts_with("uprobe") || section.starts_with("uretprobe") {
        return opts.ssl;
    }
    if let Some((_, g, _)) = SYSCALL_PROGRAMS.iter().find(|(p, _, _)| *p == name) {
        return group_wanted(*g, opts);
    }
    if PROCESS_PROGRAMS.iter().any(|(p, _)| *p == name) {
        return process_wanted(name, opts);
    }
    false
}

/// The program called `name` of a loaded object.
fn program<'o>(obj: &'o Object, name: &str) -> Option<ProgramMut<'o>> {
    obj.progs_mut().find(|p| p.name() == name)
}

/// Every probe attached, and the files already looked at.
pub(crate) struct Probes {
    links: Vec<Link>,
    attachments: Vec<Attachment>,
    /// (dev, inode) of every file looked at for TLS stacks, probed or not.
    seen_files: HashSet<(u64, u64)>,
    /// Files that hold a TLS stack where nothing could be located safely.
    unlocated: Vec<Unlocated>,
    /// The data hooks use session uprobes where a stack offers them.
    session: bool,
    /// `--pid`: uprobes trap in that process only (-1: every process).
    pid_filter: i32,
}

impl Probes {
    pub(crate) fn new(opts: &CaptureOptions, session: bool) -> Probes {
        Probes {
            links: Vec::new(),
            attachments: Vec::new(),
            seen_files: HashSet::new(),
            unlocated: Vec::new(),
            session,
            pid_filter: opts.pid.map(|p| p as i32).unwrap_or(-1),
        }
    }

    pub(crate) fn attachments(&self) -> &[Attachment] {
        &self.attachments
    }

    pub(crate) fn unlocated(&self) -> &[Unlocated] {
        &self.unlocated
    }

    /// `path` holds a TLS stack, but nothing in it could be located safely (`why`).
    pub(crate) fn note_unlocated(&mut self, path: &str, why: String) {
        self.unlocated.push(Unlocated {
            path: path.to_string(),
            why,
        });
    }

    /// Data hooks are session uprobes.
    pub(crate) fn session(&self) -> bool {
        self.session
    }

    /// Whether the file `id` was looked at already.
    pub(crate) fn seen(&self, id: (u64, u64)) -> bool {
        self.seen_files.contains(&id)
    }

    /// Marks the file `id` as looked at; false when it already was.
    pub(crate) fn mark_seen(&mut self, id: (u64, u64)) -> bool {
        self.seen_files.insert(id)
    }

    /// Attaches the syscall and process tracepoints `opts` needs (all or an error).
    pub(crate) fn attach_tracepoints(
        &mut self,
        obj: &Object,
        opts: &CaptureOptions,
    ) -> Result<(), CaptureError> {
        let syscalls = SYSCALL_PROGRAMS
            .iter()
            .filter(|(_, g, _)| group_wanted(*g, opts))
            .map(|(p, _, tp)| (*p, "tracepoint", "syscalls", *tp));
        let process = PROCESS_PROGRAMS
            .iter()
            .filter(|(p, _)| process_wanted(p, opts))
            .map(|(p, tp)| (*p, "tp_btf", "sched", *tp));
        for (prog, kind, cat, tp) in syscalls.chain(process) {
            let what = || match kind {
                "tp_btf" => format!("tp_btf {tp}"),
                _ => format!("tracepoint {cat}:{tp}"),
            };
            let link = program(obj, prog)
                .ok_or_else(|| CaptureError::Attach {
                    what: what(),
                    err: format!("program {prog} is not in the BPF object"),
                })?
                .attach()
                .map_err(|e| CaptureError::Attach {
                    what: what(),
                    err: e.to_string(),
                })?;
            self.links.push(link);
            self.attachments.push(Attachment {
                probe: kind,
                path: cat.to_string(),
                symbol: tp.to_string(),
            });
        }
        Ok(())
    }

    /// Attaches the hooks a TLS stack (index `stack` of `tls::STACKS`) located in `path`: from
    /// each group, the first alternative of which a hook attaches. Kept only if at least one data
    /// hook attached (a file whose plaintext cannot be read is not worth its traps); returns
    /// whether it was. `shown` is the path `status` shows. A group the kernel refused entirely
    /// (say, plain uprobes without CAP_SYS_ADMIN) is noted as unlocated with the kernel's error,
    /// so `record` and `status` name it.
    pub(crate) fn attach_tls(
        &mut self,
        obj: &Object,
        path: &Path,
        shown: &str,
        stack: usize,
        linkage: Linkage,
        groups: &[HookGroup],
    ) -> bool {
        let cookie = Origin::new(stack, linkage).0 as u64;
        let mut made: Vec<(Link, String, &'static str)> = Vec::new();
        let mut any_data = false;
        let mut refused: Vec<(String, String)> = Vec::new();
        for group in groups {
            let mut attached = false;
            let mut errors = Vec::new();
            for alternative in &group.alternatives {
                for hook in alternative {
                    match self.attach_hook(obj, path, hook, cookie) {
                        Ok(links) => {
                            attached = true;
                            any_data |= hook.data;
                            made.extend(links.into_iter().map(|(l, k)| (l, hook.label.clone(), k)));
                        }
                        Err(e) => errors.push((hook.label.clone(), e)),
                    }
                }
                if attached {
                    break;
                }
            }
            if !attached {
                refused.extend(errors);
            }
        }
        if !refused.is_empty() {
            let what = if any_data {
                "some hooks refused by the kernel"
            } else {
                "no data hook attached (content not read)"
            };
            self.note_unlocated(shown, format!("{what}: {}", by_error(&refused)));
        }
        if !any_data {
            return false;
        }
        for (link, label, kind) in made {
            self.links.push(link);
            self.attachments.push(Attachment {
                probe: kind,
                path: shown.to_string(),
                symbol: label,
            });
        }
        true
    }

    /// One hook: its session program where offered and the kernel has them, else its entry
    /// program and return program. An error (the kernel's, or a missing program) when any of
    /// them failed: nothing is kept then.
    fn attach_hook(
        &self,
        obj: &Object,
        path: &Path,
        hook: &crate::tls::Hook,
        cookie: u64,
    ) -> Result<Vec<(Link, &'static str)>, String> {
        let find = |name: &str| {
            program(obj, name).ok_or_else(|| format!("program {name} is not in the BPF object"))
        };
        if let (true, Some(name)) = (self.session, hook.session) {
            let opts = UprobeMultiOpts {
                offsets: vec![hook.offset as usize],
                cookies: vec![cookie],
                session: true,
                ..Default::default()
            };
            return find(name)?
                .attach_uprobe_multi_with_opts(self.pid_filter, path, "", opts)
                .map(|l| vec![(l, "uprobe.session")])
                .map_err(|e| format!("{e:#}"));
        }
        let one = |name: &str, retprobe: bool| -> Result<Link, String> {
            let opts = UprobeOpts {
                retprobe,
                cookie,
                ..Default::default()
            };
            find(name)?
                .attach_uprobe_with_opts(self.pid_filter, path, hook.offset as usize, opts)
                .map_err(|e| format!("{e:#}"))
        };
        let mut links = vec![(one(hook.enter, false)?, "uprobe")];
        if let Some(exit) = hook.exit {
            links.push((one(exit, true)?, "uretprobe"));
        }
        Ok(links)
    }
}

/// `hook: error` pairs as `hook, hook: error; hook: other error` (hooks sharing an error named
/// together), with the capability to grant when the kernel said "not permitted".
fn by_error(refused: &[(String, String)]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (label, err) in refused {
        match groups.iter_mut().find(|(e, _)| e == err) {
            Some((_, labels)) => labels.push(label),
            None => groups.push((err, vec![label])),
        }
    }
    let mut text = groups
        .iter()
        .map(|(err, labels)| format!("{}: {err}", labels.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    if refused
        .iter()
        .any(|(_, e)| e.contains("not permitted") || e.contains("Permission denied"))
    {
        text.push_str(" (plain uprobes need CAP_SYS_ADMIN on this kernel)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_grouped_by_error() {
        let r = |l: &str, e: &str| (l.to_string(), e.to_string());
        assert_eq!(
            by_error(&[
                r(
                    "SSL_set_fd",
                    "failed to attach uprobe: Operation not permitted (os error 1)"
                ),
                r(
                    "SSL_free",
                    "failed to attach uprobe: Operation not permitted (os error 1)"
                ),
                r("SSL_ctrl", "program x is not in the BPF object"),
            ]),
            "SSL_set_fd, SSL_free: failed to attach uprobe: Operation not permitted (os error 1); \
             SSL_ctrl: program x is not in the BPF object (plain uprobes need CAP_SYS_ADMIN on \
             this kernel)"
        );
    }

    #[test]
    fn programs_load_as_the_options_say() {
        let all = CaptureOptions::default();
        assert!(wanted("ssl_write_enter", "uprobe", &all, true));
        assert!(wanted("ssl_write_sess", "uprobe.session", &all, true));
        assert!(!wanted("ssl_write_sess", "uprobe.session", &all, false));
        assert!(wanted(
            "net_connect_exit",
            "tracepoint/syscalls/sys_exit_connect",
            &all,
            false
        ));
        assert!(wanted(
            "plain_read_exit",
            "tracepoint/syscalls/sys_exit_read",
            &all,
            false
        ));
        let no_tls = CaptureOptions {
            ssl: false,
            file: false,
            plaintext: false,
            ..Default::default()
        };
        assert!(!wanted("ssl_alpn_exit", "uretprobe", &no_tls, true));
        assert!(!wanted(
            "tls_sys_read",
            "tracepoint/syscalls/sys_enter_read",
            &no_tls,
            true
        ));
        assert!(!wanted(
            "sys_write_enter",
            "tracepoint/syscalls/sys_enter_write",
            &no_tls,
            true
        ));
        assert!(wanted(
            "proc_exec",
            "tp_btf/sched_process_exec",
            &no_tls,
            true
        ));
        assert!(!wanted("no_such_program", "tracepoint/x/y", &all, true));
    }
}
