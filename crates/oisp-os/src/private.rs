//! Files only their owner can read: everything the sensor writes (events, the store, queues, the
//! state file, the proxy's CA) is mode 0600 in directories it creates 0700. On Windows, where
//! Unix modes do not exist, files get the default ACL of the per-user directory they live in.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Options that create files mode 0600 (Unix): set `write`/`read` and `create`/`truncate`/
/// `append` as needed on the result. The mode applies only to files this open creates.
pub fn file_options() -> OpenOptions {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut opts = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts
}

/// Creates `dir` and its missing parents; the directories created are mode 0700 (Unix). An
/// existing directory keeps its mode.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Like [`create_dir`], and an existing `dir` is tightened to 0700 too.
pub fn create_owned_dir(dir: &Path) -> std::io::Result<()> {
    create_dir(dir)?;
    restrict(dir, 0o700)
}

/// Creates (truncating) `path` for writing, mode 0600, with its parent directories (made 0700).
pub fn create_file(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
    }
    file_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

/// Sets `path`'s mode to 0600 (Unix), whatever it was: for files another program created
/// (SQLite's side files) or an earlier version left wider.
pub fn restrict_file(path: &Path) -> std::io::Result<()> {
    restrict(path, 0o600)
}

/// Writes `bytes` to `path` (replacing it) with mode 0600, through a temporary file beside it
/// renamed into place, so a reader never sees half a file (no fsync: a crash may lose the new
/// content, never tear it).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut f = file_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    // A leftover temporary file from a crash keeps its old mode: tighten it.
    restrict(&tmp, 0o600)?;
    f.write_all(bytes)?;
    drop(f);
    std::fs::rename(&tmp, path)
}

fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn everything_created_is_the_owners_only() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("a/b/events.jsonl");
        create_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&root.path().join("a/b")), 0o700);

        let state = root.path().join("a/state.json");
        std::fs::write(format!("{}.tmp", state.display()), b"old").unwrap();
        std::fs::set_permissions(
            format!("{}.tmp", state.display()),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        write_atomically(&state, b"{}").unwrap();
        assert_eq!(mode(&state), 0o600);
        assert_eq!(std::fs::read(&state).unwrap(), b"{}");

        let wide = root.path().join("wide");
        std::fs::create_dir(&wide).unwrap();
        std::fs::set_permissions(&wide, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_owned_dir(&wide).unwrap();
        assert_eq!(mode(&wide), 0o700);
        create_dir(&wide.join("x")).unwrap();
        std::fs::set_permissions(&wide, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir(&wide).unwrap();
        assert_eq!(
            mode(&wide),
            0o755,
            "create_dir leaves an existing directory alone"
        );
    }
}
