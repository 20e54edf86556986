//! Protocol detection: decides from a connection's first bytes whether it carries HTTP/2 (client
//! preface), HTTP/1.x (request line) or something else, and which direction carries requests.
//! Until then every in-order segment is queued so it can be replayed into the chosen decoder.

use crate::http::{ChunkMeta, PREFACE};
use oisp_capture::{ConnRole, Direction};

/// Bytes of each direction kept for classification.
const PREFIX_MAX: usize = 8192;
/// Longest request method accepted.
const METHOD_MAX: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    H1,
    H2,
    No,
    Maybe,
}

/// A segment seen before the protocol was known.
pub(crate) enum Queued {
    Data(Direction, Vec<u8>, ChunkMeta),
    Gap(Direction, u64, ChunkMeta),
}

/// The detector's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Wait,
    H1 { req: Direction },
    H2 { req: Direction },
    NotHttp(String),
}

/// Detection state of one connection.
#[derive(Default)]
pub(crate) struct Detector {
    pub queue: Vec<Queued>,
    prefix: [Vec<u8>; 2],
    /// A gap was seen in this direction (its prefix stops there).
    gapped: [bool; 2],
    pub queued_bytes: usize,
}

pub(crate) fn dir_idx(d: Direction) -> usize {
    match d {
        Direction::Egress => 0,
        Direction::Ingress => 1,
    }
}

fn other(d: Direction) -> Direction {
    match d {
        Direction::Egress => Direction::Ingress,
        Direction::Ingress => Direction::Egress,
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Does `p` start with an HTTP/2 preface or an HTTP/1.x request line?
fn classify_request(p: &[u8]) -> Class {
    if p.starts_with(PREFACE) {
        return Class::H2;
    }
    if PREFACE.starts_with(p) {
        return Class::Maybe;
    }
    let method = p.iter().take_while(|&&b| is_tchar(b)).count();
    if method > METHOD_MAX {
        return Class::No;
    }
    match p.get(method) {
        None => return Class::Maybe,
        Some(b' ') if method > 0 => {}
        Some(_) => return Class::No,
    }
    let rest = p.get(method + 1..).unwrap_or_default();
    let target = rest.iter().take_while(|&&b| b > b' ' && b != 0x7f).count();
    match rest.get(target) {
        None => {
            return if p.len() < PREFIX_MAX {
                Class::Maybe
            } else {
                Class::No
            }
        }
        Some(b' ') if target > 0 => {}
        Some(_) => return Class::No,
    }
    let version = rest.get(target + 1..).unwrap_or_default();
    match classify_version(version, b"HTTP/1.") {
        Class::H1 => {}
        c => return c,
    }
    match version.get(8..) {
        None | Some([]) | Some([b'\r']) => Class::Maybe,
        Some([b'\n', ..]) | Some([b'\r', b'\n', ..]) => Class::H1,
        Some(_) => Class::No,
    }
}

/// `v` starts with `lit` followed by a digit (H1), could still (Maybe), or cannot (No).
fn classify_version(v: &[u8], lit: &[u8]) -> Class {
    if v.len() <= lit.len() {
        return if lit.starts_with(v) {
            Class::Maybe
        } else {
            Class::No
        };
    }
    if v.starts_with(lit) && v.get(lit.len()).is_some_and(u8::is_ascii_digit) {
        Class::H1
    } else {
        Class::No
    }
}

/// Does `p` start with an HTTP/1.x status line?
fn classify_response(p: &[u8]) -> Class {
    match classify_version(p, b"HTTP/1.") {
        Class::H1 => match p.get(8) {
            None => Class::Maybe,
            Some(b' ') => Class::H1,
            Some(_) => Class::No,
        },
        c => c,
    }
}

impl Detector {
    pub fn push_data(&mut self, dir: Direction, bytes: &[u8], meta: ChunkMeta) {
        let i = dir_idx(dir);
        if !self.gapped[i] && self.prefix[i].len() < PREFIX_MAX {
            let take = bytes.len().min(PREFIX_MAX - self.prefix[i].len());
            self.prefix[i].extend_from_slice(&bytes[..take]);
        }
        self.queued_bytes += bytes.len();
        self.queue.push(Queued::Data(dir, bytes.to_vec(), meta));
    }

    pub fn push_gap(&mut self, dir: Direction, len: u64, meta: ChunkMeta) {
        self.gapped[dir_idx(dir)] = true;
        self.queue.push(Queued::Gap(dir, len, meta));
    }

    /// True when no byte has been seen yet.
    pub fn is_empty(&self) -> bool {
        self.queued_bytes == 0
    }

    /// Decides if possible. `ended`: no more bytes will come; `max_bytes` bounds waiting.
    pub fn decide(&self, role: ConnRole, alpn_h2: bool, max_bytes: usize, ended: bool) -> Verdict {
        let give_up = ended || self.queued_bytes > max_bytes;
        let class = |d: Direction| {
            let i = dir_idx(d);
            let c = classify_request(&self.prefix[i]);
            // A direction cut by a gap can never complete its prefix.
            if c == Class::Maybe && (self.gapped[i] || give_up) {
                Class::No
            } else {
                c
            }
        };
        let known = match role {
            ConnRole::Client => Some(Direction::Egress),
            ConnRole::Server => Some(Direction::Ingress),
            ConnRole::Unknown => None,
        };
        if let Some(req) = known {
            return match class(req) {
                Class::H2 => Verdict::H2 { req },
                _ if alpn_h2 => Verdict::H2 { req },
                Class::H1 => Verdict::H1 { req },
                Class::Maybe => Verdict::Wait,
                Class::No => Verdict::NotHttp(self.describe(req)),
            };
        }
        let dirs = [Direction::Egress, Direction::Ingress];
        for d in dirs {
            match class(d) {
                Class::H2 => return Verdict::H2 { req: d },
                Class::H1 => return Verdict::H1 { req: d },
                _ => {}
            }
        }
        if alpn_h2 {
            return Verdict::H2 {
                req: Direction::Egress,
            };
        }
        for d in dirs {
            if classify_response(&self.prefix[dir_idx(d)]) == Class::H1 {
                return Verdict::H1 { req: other(d) };
            }
        }
        let hopeless = |d: Direction| {
            let i = dir_idx(d);
            let p = &self.prefix[i];
            let resp = classify_response(p);
            class(d) == Class::No && (resp == Class::No || give_up || self.gapped[i])
        };
        let seen = |d: Direction| !self.prefix[dir_idx(d)].is_empty() || self.gapped[dir_idx(d)];
        let both_hopeless = dirs.iter().all(|&d| seen(d) && hopeless(d));
        if both_hopeless || (give_up && !self.is_empty()) {
            let d = if seen(Direction::Egress) {
                Direction::Egress
            } else {
                Direction::Ingress
            };
            return Verdict::NotHttp(self.describe(d));
        }
        Verdict::Wait
    }

    fn describe(&self, d: Direction) -> String {
        let p = &self.prefix[dir_idx(d)];
        if p.is_empty() {
            return format!("{d:?} stream does not start with HTTP (bytes lost at its start)");
        }
        let shown: String = p
            .iter()
            .take(16)
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    (b as char).to_string()
                } else {
                    format!("\\x{b:02x}")
                }
            })
            .collect();
        format!("{d:?} stream starts with \"{shown}\", neither an HTTP/1 request nor the HTTP/2 preface")
    }
}
