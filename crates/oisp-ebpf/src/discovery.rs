//! Finding the TLS stacks to probe: every stack of `tls::STACKS` is asked about each candidate
//! file — its well-known files at start, the libraries running processes map, the executables
//! processes run, the libraries they open — once per file (dev, inode).

use crate::elf::Elf;
use crate::probes::Probes;
use crate::procfs;
use crate::tls::{Linkage, STACKS};
use libbpf_rs::Object;
use std::path::{Path, PathBuf};

/// Discovery over the probes of one capture and its loaded BPF object.
pub(crate) struct Discovery<'a> {
    pub probes: &'a mut Probes,
    pub obj: &'a Object,
}

impl Discovery<'_> {
    /// At start: every stack's well-known files, then what running processes map and run. The
    /// sensor's own executable is never examined: it names the source files the structure
    /// locators look for (and links rustls), so it would be listed as a stack nothing could be
    /// located in each time `oisp-sensor status` runs.
    pub(crate) fn at_start(&mut self) {
        if let Some(me) = procfs::file_id(Path::new("/proc/self/exe")) {
            self.probes.mark_seen(me);
        }
        for stack in STACKS {
            for (path, linkage) in stack.well_known_files() {
                if path.exists() {
                    self.examine(&path, linkage);
                }
            }
        }
        let me = std::process::id();
        for pid in procfs::pids() {
            if pid != me {
                self.process(pid);
            }
        }
    }

    /// The stack libraries a process maps, and its executable.
    fn process(&mut self, pid: u32) {
        let libs = procfs::mapped_files(pid, |p| STACKS.iter().any(|s| s.is_library_name(p)));
        for lib in libs {
            self.examine(&lib, Linkage::Shared);
        }
        self.exe(pid);
    }

    /// The executable process `pid` runs (after an exec), for stacks linked into it.
    pub(crate) fn exe(&mut self, pid: u32) {
        let exe = PathBuf::from(format!("/proc/{pid}/exe"));
        let Some(id) = procfs::file_id(&exe) else {
            return;
        };
        if self.probes.seen(id) {
            return;
        }
        // Attach through the real path so `status` shows something readable.
        let real = std::fs::read_link(&exe)
            .ok()
            .map(|p| PathBuf::from(format!("/proc/{pid}/root{}", p.display())))
            .filter(|p| procfs::file_id(p) == Some(id))
            .unwrap_or(exe);
        self.examine(&real, Linkage::LinkedIn);
    }

    /// A library process `pid` opened (`full`: its absolute path in the process's root), when
    /// some stack claims it by name.
    pub(crate) fn library_opened(&mut self, pid: u32, full: &str) {
        if STACKS.iter().any(|s| s.is_library_name(full)) {
            let p = PathBuf::from(format!("/proc/{pid}/root{full}"));
            self.examine(&p, Linkage::Shared);
        }
    }

    /// Asks every stack about `path` (once per file): a shared library of the stacks whose name
    /// it has, or an executable with stacks linked in; attaches what they locate.
    fn examine(&mut self, path: &Path, linkage: Linkage) {
        let Some(id) = procfs::file_id(path) else {
            return;
        };
        if !self.probes.mark_seen(id) {
            return;
        }
        let Some(mut elf) = Elf::open(path) else {
            return;
        };
        let name = path.to_string_lossy();
        let shown = display_path(path);
        for (i, stack) in STACKS.iter().enumerate() {
            let holds = match linkage {
                Linkage::Shared => stack.is_library_name(&name),
                Linkage::LinkedIn => stack.is_linked_into(path, &mut elf),
            };
            if !holds {
                continue;
            }
            match stack.locate(&mut elf, linkage) {
                Ok(groups) => {
                    self.probes
                        .attach_tls(self.obj, path, &shown, i, linkage, &groups);
                }
                Err(why) => self.probes.note_unlocated(&shown, why),
            }
        }
    }
}

fn display_path(p: &Path) -> String {
    // /proc/PID/root/usr/lib/... → /usr/lib/... for the host's own root
    let s = p.to_string_lossy();
    if let Some(rest) = s.strip_prefix("/proc/") {
        if let Some((pid, tail)) = rest.split_once("/root") {
            if pid.chars().all(|c| c.is_ascii_digit()) {
                let same_root = std::fs::read_link(format!("/proc/{pid}/root"))
                    .map(|r| r == Path::new("/"))
                    .unwrap_or(false);
                if same_root {
                    return tail.to_string();
                }
            }
        }
    }
    s.into_owned()
}
