//! Cgroup v2 ids → paths. The kernel names a task's cgroup by its id, the inode number of the
//! cgroup's directory in the cgroup2 mount; a capture records that id at exec (it cannot be
//! lost, unlike `/proc/PID/cgroup` of a process that has ended), and [`CgroupPaths`] turns it
//! into the path `/proc/PID/cgroup` would have shown (`0::` line), by walking the mount.
//!
//! The walk is done again when an id shows up that the last walk did not find (a cgroup made
//! since), once per such id, and at most [`SCANS_PER_SECOND`] times a second on average (bursts
//! of that many allowed); it visits at most [`MAX_CGROUP_DIRS`] directories.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Instant;

/// Average walks per second allowed (and the largest burst).
pub const SCANS_PER_SECOND: f64 = 20.0;
/// Most cgroup directories one walk visits.
pub const MAX_CGROUP_DIRS: usize = 100_000;
/// Deepest nesting walked.
const MAX_DEPTH: usize = 32;
/// Ids a walk did not find, remembered so they cause no further walks (cleared when full).
const MAX_UNFOUND: usize = 4096;

/// Paths of the cgroups below one cgroup2 mount, by id.
pub struct CgroupPaths {
    mount: Option<PathBuf>,
    by_id: HashMap<u64, String>,
    unfound: HashSet<u64>,
    /// Walks that may be done now (token bucket), and when it was last refilled.
    budget: f64,
    refilled: Instant,
}

impl CgroupPaths {
    /// This machine's cgroup2 mount, from `/proc/self/mountinfo` (`None` on a v1-only host:
    /// then every lookup is `None`).
    pub fn host() -> CgroupPaths {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        CgroupPaths::at(cgroup2_mount(&info))
    }

    /// Cgroups below `mount` (a cgroup2 mount point, or any directory in tests).
    pub fn at(mount: Option<PathBuf>) -> CgroupPaths {
        CgroupPaths {
            mount,
            by_id: HashMap::new(),
            unfound: HashSet::new(),
            budget: SCANS_PER_SECOND,
            refilled: Instant::now(),
        }
    }

    /// The path of cgroup `id` relative to the mount, with a leading `/` (`/` for the root).
    pub fn path(&mut self, id: u64) -> Option<String> {
        if id == 0 || self.mount.is_none() {
            return None;
        }
        if let Some(p) = self.by_id.get(&id) {
            return Some(p.clone());
        }
        if self.unfound.contains(&id) {
            return None;
        }
        let now = Instant::now();
        let refill = now.duration_since(self.refilled).as_secs_f64() * SCANS_PER_SECOND;
        self.budget = (self.budget + refill).min(SCANS_PER_SECOND);
        self.refilled = now;
        if self.budget < 1.0 {
            return None;
        }
        self.budget -= 1.0;
        self.scan();
        let found = self.by_id.get(&id).cloned();
        if found.is_none() {
            if self.unfound.len() >= MAX_UNFOUND {
                self.unfound.clear();
            }
            self.unfound.insert(id);
        }
        found
    }

    fn scan(&mut self) {
        let Some(mount) = self.mount.clone() else {
            return;
        };
        let mut by_id = HashMap::new();
        let mut stack = vec![(mount.clone(), "/".to_string(), 0usize)];
        while let Some((dir, rel, depth)) = stack.pop() {
            let Ok(meta) = std::fs::metadata(&dir) else {
                continue;
            };
            by_id.insert(meta.ino(), rel.clone());
            if by_id.len() >= MAX_CGROUP_DIRS || depth >= MAX_DEPTH {
                continue;
            }
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                if !e.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                let Some(name) = e.file_name().to_str().map(str::to_string) else {
                    continue;
                };
                let child = if rel == "/" {
                    format!("/{name}")
                } else {
                    format!("{rel}/{name}")
                };
                stack.push((e.path(), child, depth + 1));
            }
        }
        self.by_id = by_id;
    }
}

/// The mount point of the first cgroup2 file system in a mountinfo text.
fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        (right.split_whitespace().next()? == "cgroup2")
            .then(|| left.split_whitespace().nth(4).map(unescape))?
    })
}

/// mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> PathBuf {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], oct) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn mountinfo_lines() {
        let hybrid = "35 25 0:30 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
                      36 35 0:31 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n\
                      37 35 0:32 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
        assert_eq!(
            cgroup2_mount(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let v2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(cgroup2_mount(v2), Some(PathBuf::from("/sys/fs/cgroup")));
        assert_eq!(
            cgroup2_mount("37 35 0:32 / /x rw - cgroup cgroup rw\n"),
            None
        );
        assert_eq!(cgroup2_mount("garbage - \n\n"), None);
        assert_eq!(unescape("/a\\040b\\"), PathBuf::from("/a b\\"));
    }

    #[test]
    fn ids_are_directory_inodes_found_by_walking() {
        let t = tempfile::tempdir().unwrap();
        let deep = t.path().join("libpod_parent/libpod-abc");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(t.path().join("libpod_parent/cgroup.procs"), "").unwrap();
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        let mut paths = CgroupPaths::at(Some(t.path().to_path_buf()));
        assert_eq!(
            paths.path(ino(&deep)).as_deref(),
            Some("/libpod_parent/libpod-abc")
        );
        assert_eq!(paths.path(ino(t.path())).as_deref(), Some("/"));
        // A cgroup made after the walk is found by the next one, at once.
        let later = t.path().join("later");
        std::fs::create_dir(&later).unwrap();
        assert_eq!(paths.path(ino(&later)).as_deref(), Some("/later"));
        assert_eq!(paths.path(0), None);
        // Unknown ids: one walk each, then none; walks beyond the budget are not done.
        for id in 1..100u64 {
            let _ = paths.path(u64::MAX - id);
        }
        assert!(paths.budget < 1.0);
        assert!(paths.unfound.len() < 100);
        let after = t.path().join("after");
        std::fs::create_dir(&after).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(paths.path(ino(&after)).as_deref(), Some("/after"));
        assert_eq!(CgroupPaths::at(None).path(ino(&later)), None);
    }
}
