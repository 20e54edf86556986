//! JSON Lines: one event per line to a file (mode 0600) or standard output, with rotation.
//!
//! Rotation (by size and/or age of the current file) renames `FILE` → `FILE.1`, `FILE.1` →
//! `FILE.2`, … and deletes what falls beyond `keep`; the next line goes to a fresh `FILE`. A line
//! is never split across files.

use crate::parse_duration;
use crate::{DeliveryError, Item, Sink};
use serde::Deserialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// See the module documentation.
pub struct JsonlSink {
    path: PathBuf,
    out: Output,
    rotate_bytes: Option<u64>,
    rotate_every: Option<Duration>,
    keep: u32,
    written: u64,
    opened: Instant,
}

enum Output {
    Stdout(BufWriter<std::io::Stdout>),
    File(BufWriter<File>),
}

impl JsonlSink {
    /// Opens the output: `-` is standard output, otherwise the file is created mode 0600 (with
    /// its parent directories), appended to when `append`, truncated otherwise.
    pub fn new(cfg: &JsonlConfig) -> Result<JsonlSink, String> {
        let rotate_every = cfg
            .rotate_interval
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(|e| format!("jsonl.rotate_interval: {e}"))?;
        if rotate_every.is_some_and(|d| d < Duration::from_secs(1)) {
            return Err("jsonl.rotate_interval: must be at least 1s".into());
        }
        let rotate_bytes = cfg.rotate_size_mb.map(|mb| mb.max(1) * 1024 * 1024);
        let (out, written) = if cfg.path.as_os_str() == "-" {
            (Output::Stdout(BufWriter::new(std::io::stdout())), 0)
        } else {
            let f = open_private(&cfg.path, cfg.append)
                .map_err(|e| format!("cannot write {}: {e}", cfg.path.display()))?;
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            (Output::File(BufWriter::new(f)), len)
        };
        Ok(JsonlSink {
            path: cfg.path.clone(),
            out,
            rotate_bytes,
            rotate_every,
            keep: cfg.keep,
            written,
            opened: Instant::now(),
        })
    }

    fn writer(&mut self) -> &mut dyn Write {
        match &mut self.out {
            Output::Stdout(w) => w,
            Output::File(w) => w,
        }
    }

    fn due_for_rotation(&self, next_len: u64) -> bool {
        if !matches!(self.out, Output::File(_)) || self.written == 0 {
            return false;
        }
        self.rotate_bytes
            .is_some_and(|max| self.written + next_len > max)
            || self
                .rotate_every
                .is_some_and(|d| self.opened.elapsed() >= d)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.writer().flush()?;
        for n in (1..=self.keep).rev() {
            let from = numbered(&self.path, n);
            if n == self.keep {
                let _ = std::fs::remove_file(&from);
            } else if from.exists() {
                std::fs::rename(&from, numbered(&self.path, n + 1))?;
            }
        }
        if self.keep > 0 {
            std::fs::rename(&self.path, numbered(&self.path, 1))?;
        }
        let f = open_private(&self.path, false)?;
        self.out = Output::File(BufWriter::new(f));
        self.written = 0;
        self.opened = Instant::now();
        Ok(())
    }
}

fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{n}"));
    PathBuf::from(p)
}

/// Opens the output file mode 0600 (parents created 0700), appending or truncating.
fn open_private(path: &Path, append: bool) -> std::io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        oisp_os::private::create_dir(dir)?;
    }
    let mut opts = oisp_os::private::file_options();
    opts.write(true).create(true);
    if append {
        opts.append(true);
    } else {
        opts.truncate(true);
    }
    opts.open(path)
}

fn io_err(e: std::io::Error) -> DeliveryError {
    DeliveryError::Retryable(e.to_string())
}

impl Sink for JsonlSink {
    fn kind(&self) -> &'static str {
        "jsonl"
    }

    fn target(&self) -> String {
        if self.path.as_os_str() == "-" {
            "standard output".into()
        } else {
            self.path.display().to_string()
        }
    }

    fn deliver(&mut self, batch: &[Item]) -> Result<(), DeliveryError> {
        for item in batch {
            let len = item.json.len() as u64 + 1;
            if self.due_for_rotation(len) {
                self.rotate().map_err(io_err)?;
            }
            let w = self.writer();
            w.write_all(&item.json).map_err(io_err)?;
            w.write_all(b"\n").map_err(io_err)?;
            self.written += len;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DeliveryError> {
        match self.writer().flush() {
            // A closed stdout (`| head`) is the reader's choice, not a sink failure to retry.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            r => r.map_err(io_err),
        }
    }
}

/// `[jsonl]`: events as JSON Lines to a file (created 0600) or standard output (`path = "-"`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JsonlConfig {
    pub path: PathBuf,
    /// Rotate when the file reaches this many megabytes.
    pub rotate_size_mb: Option<u64>,
    /// Rotate at this interval (e.g. `1h`, `1d`).
    pub rotate_interval: Option<String>,
    /// Rotated files kept (`FILE.1` newest … `FILE.N`); older ones are deleted.
    pub keep: u32,
    /// Append to an existing file instead of truncating it at start.
    pub append: bool,
}

impl Default for JsonlConfig {
    fn default() -> Self {
        JsonlConfig {
            path: PathBuf::from("-"),
            rotate_size_mb: None,
            rotate_interval: None,
            keep: 5,
            append: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<Item> {
        let ev: oisp_event::Event = serde_json::from_str(include_str!(
            "../../../vendor/oisp-spec/examples/process-exec.json"
        ))
        .unwrap();
        (0..n)
            .map(|i| {
                let mut e = ev.clone();
                e.event_id = format!("e{i}");
                Item::new(e).unwrap()
            })
            .collect()
    }

    #[test]
    fn rotates_by_size_keeps_n_files_whole_lines_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/events.jsonl");
        let mut s = JsonlSink::new(&JsonlConfig {
            path: path.clone(),
            rotate_size_mb: Some(1),
            keep: 2,
            ..Default::default()
        })
        .unwrap();
        let batch = items(2000);
        let line = batch[0].json.len() + 1;
        for _ in 0..3 {
            s.deliver(&batch).unwrap();
        }
        s.flush().unwrap();
        let mut total = 0;
        for p in [path.clone(), numbered(&path, 1), numbered(&path, 2)] {
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(text.len() <= 1024 * 1024, "{} too big", p.display());
            for l in text.lines() {
                serde_json::from_str::<oisp_event::Event>(l).unwrap();
            }
            total += text.lines().count();
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!numbered(&path, 3).exists());
        // 6000 lines written; rotated files are full, the oldest went beyond `keep`.
        assert!(total < 6000);
        for n in [1, 2] {
            let len = std::fs::metadata(numbered(&path, n)).unwrap().len() as usize;
            assert!(len > 1024 * 1024 - line, "file .{n} is {len} bytes");
        }
    }

    #[test]
    fn rotates_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.jsonl");
        let mut s = JsonlSink::new(&JsonlConfig {
            path: path.clone(),
            rotate_interval: Some("1s".into()),
            keep: 3,
            ..Default::default()
        })
        .unwrap();
        s.deliver(&items(2)).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        s.deliver(&items(3)).unwrap();
        s.flush().unwrap();
        let lines = |p: &Path| std::fs::read_to_string(p).unwrap().lines().count();
        assert_eq!(lines(&numbered(&path, 1)), 2);
        assert_eq!(lines(&path), 3);
    }

    #[test]
    fn bad_interval_is_an_error() {
        let e = JsonlSink::new(&JsonlConfig {
            path: "/tmp/x".into(),
            rotate_interval: Some("soon".into()),
            ..Default::default()
        });
        assert!(e.err().unwrap().contains("jsonl.rotate_interval"));
    }
}
