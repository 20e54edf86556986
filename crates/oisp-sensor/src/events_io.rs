//! Reading and writing event files (JSON Lines, one OISP event per line).
//!
//! Files this program creates are mode 0600: events can hold prompts and responses.

use anyhow::{Context, Result};
use oisp_event::Event;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Where events go when no file is named: `/var/lib/oisp-sensor/events.jsonl` for root,
/// `$XDG_DATA_HOME/oisp-sensor/events.jsonl` (default `~/.local/share/...`) otherwise.
/// `OISP_EVENTS_FILE` overrides both.
pub fn default_events_path() -> PathBuf {
    if let Some(p) = std::env::var_os("OISP_EVENTS_FILE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if is_root() {
        return PathBuf::from("/var/lib/oisp-sensor/events.jsonl");
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("oisp-sensor").join("events.jsonl")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Creates (truncating) a file mode 0600 for writing, with its parent directories.
pub fn create_private(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes one event as a JSON line.
pub fn write_event(out: &mut dyn Write, ev: &Event) -> Result<()> {
    serde_json::to_writer(&mut *out, ev)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Where `show`/`analyze` read from.
pub enum InputSource {
    Stdin,
    File(PathBuf),
}

impl InputSource {
    /// `-` → stdin; a path → that file; nothing → the default events file.
    pub fn resolve(arg: Option<&Path>) -> InputSource {
        match arg {
            Some(p) if p == Path::new("-") => InputSource::Stdin,
            Some(p) => InputSource::File(p.to_path_buf()),
            None => InputSource::File(default_events_path()),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            InputSource::Stdin => "standard input".to_string(),
            InputSource::File(p) => p.display().to_string(),
        }
    }

    pub fn open(&self) -> Result<Box<dyn BufRead>> {
        match self {
            InputSource::Stdin => Ok(Box::new(BufReader::new(std::io::stdin()))),
            InputSource::File(p) => {
                let f = File::open(p).with_context(|| {
                    format!(
                        "cannot read events from {} (record some with `oisp-sensor demo` or name a file with -i)",
                        p.display()
                    )
                })?;
                Ok(Box::new(BufReader::new(f)))
            }
        }
    }
}

/// Reads JSON Lines events. Lines that are not valid events are reported on stderr with their
/// line number and counted, never silently skipped.
pub struct EventLines<R> {
    input: R,
    line_no: u64,
    buf: String,
    pub bad_lines: u64,
    source_name: String,
}

impl<R: BufRead> EventLines<R> {
    pub fn new(input: R, source_name: String) -> Self {
        EventLines {
            input,
            line_no: 0,
            buf: String::new(),
            bad_lines: 0,
            source_name,
        }
    }

    /// The next valid event, `Ok(None)` at end of input (for `--follow`, call again later).
    pub fn next_event(&mut self) -> Result<Option<Event>> {
        loop {
            self.buf.clear();
            let n = read_line_lossy(&mut self.input, &mut self.buf)?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            let line = self.buf.trim();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_str::<Event>(line) {
                Ok(ev) => return Ok(Some(ev)),
                Err(e) => {
                    self.bad_lines += 1;
                    eprintln!(
                        "oisp-sensor: warning: {} line {}: not an OISP event ({e})",
                        self.source_name, self.line_no
                    );
                }
            }
        }
    }
}

/// Like `read_line` but tolerant of invalid UTF-8 (replaced, so the line is reported as bad JSON
/// rather than aborting the whole read).
fn read_line_lossy<R: BufRead>(input: &mut R, buf: &mut String) -> Result<usize> {
    let mut bytes = Vec::new();
    let n = input.read_until(b'\n', &mut bytes)?;
    buf.push_str(&String::from_utf8_lossy(&bytes));
    Ok(n)
}
