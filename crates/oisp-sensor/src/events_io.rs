//! Reading and writing event files (JSON Lines, one OISP event per line), and choosing between
//! such a file and the event store as the input of `show` and `analyze`.
//!
//! Files this program creates are mode 0600: events can hold prompts and responses.

use anyhow::{bail, Context, Result};
use oisp_event::Event;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The buffered `--raw-out` file (created 0600), when one is asked for.
pub fn raw_out_writer(path: Option<&Path>) -> Result<Option<std::io::BufWriter<File>>> {
    path.map(|p| create_private(p).map(std::io::BufWriter::new))
        .transpose()
}

/// Creates (truncating) a file mode 0600 for writing, with its parent directories (0700).
pub fn create_private(path: &Path) -> Result<File> {
    oisp_os::private::create_file(path).with_context(|| format!("cannot write {}", path.display()))
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
    /// A JSON Lines file.
    File(PathBuf),
    /// An event store; `default` when no `-i` was given (changes the message when it is absent).
    Store {
        path: PathBuf,
        default: bool,
    },
}

/// An opened input: JSON Lines to parse, or a store to query.
pub enum Opened {
    Lines(EventLines<Box<dyn BufRead>>),
    Store(oisp_store::Store),
}

/// The store `sudo oisp-sensor record` writes.
const ROOT_STORE: &str = "/var/lib/oisp-sensor/events.db";

impl InputSource {
    /// `-` → stdin; a path → that file, as a store when it starts with the SQLite header, else as
    /// JSON Lines; nothing → the default store ([`oisp_store::default_path`]).
    pub fn resolve(arg: Option<&Path>) -> InputSource {
        match arg {
            Some(p) if p == Path::new("-") => InputSource::Stdin,
            Some(p) if oisp_store::is_sqlite_file(p).unwrap_or(false) => InputSource::Store {
                path: p.to_path_buf(),
                default: false,
            },
            Some(p) => InputSource::File(p.to_path_buf()),
            None => InputSource::Store {
                path: oisp_store::default_path(),
                default: true,
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            InputSource::Stdin => "standard input".to_string(),
            InputSource::File(p) | InputSource::Store { path: p, .. } => p.display().to_string(),
        }
    }

    pub fn open(&self) -> Result<Opened> {
        match self {
            InputSource::Stdin => Ok(Opened::Lines(EventLines::new(
                Box::new(BufReader::new(std::io::stdin())),
                self.describe(),
            ))),
            InputSource::File(p) => {
                let f = File::open(p).with_context(|| {
                    format!(
                        "cannot read events from {} (record some with `oisp-sensor demo` or name a file with -i)",
                        p.display()
                    )
                })?;
                Ok(Opened::Lines(EventLines::new(
                    Box::new(BufReader::new(f)),
                    self.describe(),
                )))
            }
            InputSource::Store { path, default } => open_store(path, *default).map(Opened::Store),
        }
    }
}

fn open_store(path: &Path, default: bool) -> Result<oisp_store::Store> {
    use oisp_store::StoreError;
    match oisp_store::Store::open_existing(path) {
        Ok(s) => Ok(s),
        Err(StoreError::Missing(_)) if default => {
            let mut msg = format!(
                "no events yet at {} — run `oisp-sensor demo` or `sudo oisp-sensor record`",
                path.display()
            );
            if path != Path::new(ROOT_STORE) && Path::new(ROOT_STORE).exists() {
                msg.push_str(&format!(
                    " (events recorded as root are in {ROOT_STORE}: `sudo oisp-sensor show`)"
                ));
            }
            bail!(msg)
        }
        Err(StoreError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            bail!(
                "cannot read the event store {}: permission denied (a store written as root is \
                 readable by root only: use sudo, or name another file with -i)",
                path.display()
            )
        }
        Err(e) => Err(anyhow::Error::new(e).context("cannot read the event store")),
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
