//! HPACK (RFC 7541) header block decoder.
//!
//! Decoding only: prefixed integers (§5.1), string literals, plain or Huffman-coded (§5.2),
//! the static table (Appendix A), the dynamic table with its size accounting and eviction
//! (§4), dynamic table size updates (§6.3) and the field representations of §6.1–§6.2.
//!
//! Huffman strings are decoded four bits at a time through a state machine built once from the
//! Appendix B code table (see [`HUFFMAN_CODES`]).
//!
//! Never panics on any input: every length is checked against the remaining block before it is
//! used or allocated, integers are bounded, and all table look-ups are checked.

use std::collections::VecDeque;
use std::fmt;
use std::sync::OnceLock;

/// Initial dynamic table size (RFC 7541 §4.2, the SETTINGS_HEADER_TABLE_SIZE initial value).
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// Extra octets counted per dynamic table entry (RFC 7541 §4.1).
const ENTRY_OVERHEAD: usize = 32;

/// Continuation octets accepted after an integer's prefix (RFC 7541 §5.1 lets a decoder limit
/// them). Four keep every value below 2^28 + 255, far above any length, index or table size
/// we accept.
const MAX_INT_CONTINUATIONS: usize = 4;

/// Why a header block was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HpackError {
    /// An integer's continuation octets run past the end of the block.
    TruncatedInteger,
    /// An integer uses more continuation octets than the implementation limit.
    IntegerTooLong,
    /// A string literal's length exceeds the octets left in the block.
    TruncatedString { len: usize, remaining: usize },
    /// Index 0, or an index beyond the static and dynamic tables (§2.3.3).
    InvalidIndex(usize),
    /// A Huffman-coded string contains the EOS symbol (§5.2).
    HuffmanEos,
    /// Huffman padding longer than 7 bits or not a prefix of EOS (all ones) (§5.2).
    HuffmanPadding,
    /// A dynamic table size update above the maximum allowed (§6.3).
    TableSizeTooLarge { size: usize, max: usize },
    /// A dynamic table size update after a field of the same block (§4.2).
    TableSizeUpdateNotAtStart,
}

impl fmt::Display for HpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HpackError::TruncatedInteger => f.write_str("integer truncated"),
            HpackError::IntegerTooLong => f.write_str("integer too long"),
            HpackError::TruncatedString { len, remaining } => {
                write!(f, "string of {len} octets with {remaining} left")
            }
            HpackError::InvalidIndex(i) => write!(f, "invalid table index {i}"),
            HpackError::HuffmanEos => f.write_str("EOS inside a Huffman string"),
            HpackError::HuffmanPadding => f.write_str("invalid Huffman padding"),
            HpackError::TableSizeTooLarge { size, max } => {
                write!(f, "table size update {size} above the allowed {max}")
            }
            HpackError::TableSizeUpdateNotAtStart => {
                f.write_str("table size update after a header field")
            }
        }
    }
}

impl std::error::Error for HpackError {}

/// The static table (RFC 7541 Appendix A), index 1 first.
pub const STATIC_TABLE: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// The Huffman code (RFC 7541 Appendix B): `(code, length in bits)` for symbols 0–255 and
/// EOS (256), the code right-aligned ("code as hex aligned to LSB" column).
#[rustfmt::skip]
pub const HUFFMAN_CODES: [(u32, u8); 257] = [
    // 0-15
    (0x1ff8, 13), (0x7fffd8, 23), (0xfffffe2, 28), (0xfffffe3, 28),
    (0xfffffe4, 28), (0xfffffe5, 28), (0xfffffe6, 28), (0xfffffe7, 28),
    (0xfffffe8, 28), (0xffffea, 24), (0x3ffffffc, 30), (0xfffffe9, 28),
    (0xfffffea, 28), (0x3ffffffd, 30), (0xfffffeb, 28), (0xfffffec, 28),
    // 16-31
    (0xfffffed, 28), (0xfffffee, 28), (0xfffffef, 28), (0xffffff0, 28),
    (0xffffff1, 28), (0xffffff2, 28), (0x3ffffffe, 30), (0xffffff3, 28),
    (0xffffff4, 28), (0xffffff5, 28), (0xffffff6, 28), (0xffffff7, 28),
    (0xffffff8, 28), (0xffffff9, 28), (0xffffffa, 28), (0xffffffb, 28),
    // 32-47: ' ' ! " # $ % & ' ( ) * + , - . /
    (0x14, 6), (0x3f8, 10), (0x3f9, 10), (0xffa, 12),
    (0x1ff9, 13), (0x15, 6), (0xf8, 8), (0x7fa, 11),
    (0x3fa, 10), (0x3fb, 10), (0xf9, 8), (0x7fb, 11),
    (0xfa, 8), (0x16, 6), (0x17, 6), (0x18, 6),
    // 48-63: 0-9 : ; < = > ?
    (0x0, 5), (0x1, 5), (0x2, 5), (0x19, 6),
    (0x1a, 6), (0x1b, 6), (0x1c, 6), (0x1d, 6),
    (0x1e, 6), (0x1f, 6), (0x5c, 7), (0xfb, 8),
    (0x7ffc, 15), (0x20, 6), (0xffb, 12), (0x3fc, 10),
    // 64-79: @ A-O
    (0x1ffa, 13), (0x21, 6), (0x5d, 7), (0x5e, 7),
    (0x5f, 7), (0x60, 7), (0x61, 7), (0x62, 7),
    (0x63, 7), (0x64, 7), (0x65, 7), (0x66, 7),
    (0x67, 7), (0x68, 7), (0x69, 7), (0x6a, 7),
    // 80-95: P-Z [ \ ] ^ _
    (0x6b, 7), (0x6c, 7), (0x6d, 7), (0x6e, 7),
    (0x6f, 7), (0x70, 7), (0x71, 7), (0x72, 7),
    (0xfc, 8), (0x73, 7), (0xfd, 8), (0x1ffb, 13),
    (0x7fff0, 19), (0x1ffc, 13), (0x3ffc, 14), (0x22, 6),
    // 96-111: ` a-o
    (0x7ffd, 15), (0x3, 5), (0x23, 6), (0x4, 5),
    (0x24, 6), (0x5, 5), (0x25, 6), (0x26, 6),
    (0x27, 6), (0x6, 5), (0x74, 7), (0x75, 7),
    (0x28, 6), (0x29, 6), (0x2a, 6), (0x7, 5),
    // 112-127: p-z { | } ~ DEL
    (0x2b, 6), (0x76, 7), (0x2c, 6), (0x8, 5),
    (0x9, 5), (0x2d, 6), (0x77, 7), (0x78, 7),
    (0x79, 7), (0x7a, 7), (0x7b, 7), (0x7ffe, 15),
    (0x7fc, 11), (0x3ffd, 14), (0x1ffd, 13), (0xffffffc, 28),
    // 128-143
    (0xfffe6, 20), (0x3fffd2, 22), (0xfffe7, 20), (0xfffe8, 20),
    (0x3fffd3, 22), (0x3fffd4, 22), (0x3fffd5, 22), (0x7fffd9, 23),
    (0x3fffd6, 22), (0x7fffda, 23), (0x7fffdb, 23), (0x7fffdc, 23),
    (0x7fffdd, 23), (0x7fffde, 23), (0xffffeb, 24), (0x7fffdf, 23),
    // 144-159
    (0xffffec, 24), (0xffffed, 24), (0x3fffd7, 22), (0x7fffe0, 23),
    (0xffffee, 24), (0x7fffe1, 23), (0x7fffe2, 23), (0x7fffe3, 23),
    (0x7fffe4, 23), (0x1fffdc, 21), (0x3fffd8, 22), (0x7fffe5, 23),
    (0x3fffd9, 22), (0x7fffe6, 23), (0x7fffe7, 23), (0xffffef, 24),
    // 160-175
    (0x3fffda, 22), (0x1fffdd, 21), (0xfffe9, 20), (0x3fffdb, 22),
    (0x3fffdc, 22), (0x7fffe8, 23), (0x7fffe9, 23), (0x1fffde, 21),
    (0x7fffea, 23), (0x3fffdd, 22), (0x3fffde, 22), (0xfffff0, 24),
    (0x1fffdf, 21), (0x3fffdf, 22), (0x7fffeb, 23), (0x7fffec, 23),
    // 176-191
    (0x1fffe0, 21), (0x1fffe1, 21), (0x3fffe0, 22), (0x1fffe2, 21),
    (0x7fffed, 23), (0x3fffe1, 22), (0x7fffee, 23), (0x7fffef, 23),
    (0xfffea, 20), (0x3fffe2, 22), (0x3fffe3, 22), (0x3fffe4, 22),
    (0x7ffff0, 23), (0x3fffe5, 22), (0x3fffe6, 22), (0x7ffff1, 23),
    // 192-207
    (0x3ffffe0, 26), (0x3ffffe1, 26), (0xfffeb, 20), (0x7fff1, 19),
    (0x3fffe7, 22), (0x7ffff2, 23), (0x3fffe8, 22), (0x1ffffec, 25),
    (0x3ffffe2, 26), (0x3ffffe3, 26), (0x3ffffe4, 26), (0x7ffffde, 27),
    (0x7ffffdf, 27), (0x3ffffe5, 26), (0xfffff1, 24), (0x1ffffed, 25),
    // 208-223
    (0x7fff2, 19), (0x1fffe3, 21), (0x3ffffe6, 26), (0x7ffffe0, 27),
    (0x7ffffe1, 27), (0x3ffffe7, 26), (0x7ffffe2, 27), (0xfffff2, 24),
    (0x1fffe4, 21), (0x1fffe5, 21), (0x3ffffe8, 26), (0x3ffffe9, 26),
    (0xffffffd, 28), (0x7ffffe3, 27), (0x7ffffe4, 27), (0x7ffffe5, 27),
    // 224-239
    (0xfffec, 20), (0xfffff3, 24), (0xfffed, 20), (0x1fffe6, 21),
    (0x3fffe9, 22), (0x1fffe7, 21), (0x1fffe8, 21), (0x7ffff3, 23),
    (0x3fffea, 22), (0x3fffeb, 22), (0x1ffffee, 25), (0x1ffffef, 25),
    (0xfffff4, 24), (0xfffff5, 24), (0x3ffffea, 26), (0x7ffff4, 23),
    // 240-255
    (0x3ffffeb, 26), (0x7ffffe6, 27), (0x3ffffec, 26), (0x3ffffed, 26),
    (0x7ffffe7, 27), (0x7ffffe8, 27), (0x7ffffe9, 27), (0x7ffffea, 27),
    (0x7ffffeb, 27), (0xffffffe, 28), (0x7ffffec, 27), (0x7ffffed, 27),
    (0x7ffffee, 27), (0x7ffffef, 27), (0x7fffff0, 27), (0x3ffffee, 26),
    // EOS
    (0x3fffffff, 30),
];

/// Symbol number of EOS in [`HUFFMAN_CODES`].
const EOS: usize = 256;

/// One transition of the Huffman state machine: from a state (an internal node of the code
/// tree; 0 is the root), consume four bits.
#[derive(Clone, Copy, Default)]
struct Step {
    /// State after the four bits.
    next: u8,
    /// Symbol completed within the four bits (valid with `EMIT`; codes are at least 5 bits
    /// long, so at most one completes).
    sym: u8,
    flags: u8,
}

/// `Step::sym` holds a decoded octet.
const EMIT: u8 = 1;
/// The bits complete EOS (or leave the tree): the string is invalid.
const FAIL: u8 = 2;
/// The state after the bits is a valid end of string: the bits since the last symbol are at
/// most 7 and all ones (a prefix of EOS), or there are none.
const ACCEPT: u8 = 4;

/// 256 states (a complete code of 257 symbols has 256 internal nodes) × 16 nibbles.
type HuffmanTable = [[Step; 16]; 256];

#[derive(Clone, Copy)]
enum Child {
    Missing,
    Node(usize),
    Leaf(usize),
}

/// Builds the nibble state machine from [`HUFFMAN_CODES`]. Returns `None` if the code table
/// were not a complete prefix code of at most 256 internal nodes (checked by a test; the
/// table is constant).
fn build_huffman() -> Option<Box<HuffmanTable>> {
    // Code tree: (children, depth, path so far is all ones).
    let mut nodes: Vec<([Child; 2], u8, bool)> = vec![([Child::Missing; 2], 0, true)];
    for (sym, &(code, len)) in HUFFMAN_CODES.iter().enumerate() {
        let mut cur = 0usize;
        for i in (0..len).rev() {
            let bit = ((code >> i) & 1) as usize;
            let last = i == 0;
            let (children, depth, ones) = *nodes.get(cur)?;
            match (children[bit], last) {
                (Child::Missing, true) => {
                    nodes.get_mut(cur)?.0[bit] = Child::Leaf(sym);
                }
                (Child::Missing, false) => {
                    let id = nodes.len();
                    nodes.push(([Child::Missing; 2], depth + 1, ones && bit == 1));
                    nodes.get_mut(cur)?.0[bit] = Child::Node(id);
                    cur = id;
                }
                (Child::Node(id), false) => cur = id,
                _ => return None, // not a prefix code
            }
        }
    }
    if nodes.len() > 256 {
        return None;
    }
    let mut table: Box<HuffmanTable> = Box::new([[Step::default(); 16]; 256]);
    for (state, row) in table.iter_mut().enumerate().take(nodes.len()) {
        for (nibble, step) in row.iter_mut().enumerate() {
            let mut cur = state;
            let mut out = Step::default();
            for i in (0..4).rev() {
                let bit = (nibble >> i) & 1;
                match nodes.get(cur)?.0[bit] {
                    Child::Node(id) => cur = id,
                    Child::Leaf(sym) if sym != EOS && out.flags & EMIT == 0 => {
                        out.sym = u8::try_from(sym).ok()?;
                        out.flags |= EMIT;
                        cur = 0;
                    }
                    _ => {
                        out.flags |= FAIL;
                        cur = 0;
                        break;
                    }
                }
            }
            let (_, depth, ones) = *nodes.get(cur)?;
            if ones && depth <= 7 {
                out.flags |= ACCEPT;
            }
            out.next = u8::try_from(cur).ok()?;
            *step = out;
        }
    }
    Some(table)
}

fn huffman_table() -> Option<&'static HuffmanTable> {
    static TABLE: OnceLock<Option<Box<HuffmanTable>>> = OnceLock::new();
    TABLE.get_or_init(build_huffman).as_deref()
}

/// Decodes a Huffman-coded string (RFC 7541 §5.2), appending the octets to `out`.
pub fn huffman_decode(src: &[u8], out: &mut Vec<u8>) -> Result<(), HpackError> {
    // The table is built from constants; `None` cannot happen (see the tests), but is an
    // error rather than a panic.
    let table = huffman_table().ok_or(HpackError::HuffmanEos)?;
    // Codes are at least 5 bits long.
    out.reserve(src.len() * 8 / 5 + 1);
    let mut state = 0u8;
    let mut accept = true;
    for &b in src {
        for nibble in [b >> 4, b & 0x0f] {
            let step = table[usize::from(state)][usize::from(nibble & 0x0f)];
            if step.flags & FAIL != 0 {
                return Err(HpackError::HuffmanEos);
            }
            if step.flags & EMIT != 0 {
                out.push(step.sym);
            }
            state = step.next;
            accept = step.flags & ACCEPT != 0;
        }
    }
    if accept {
        Ok(())
    } else {
        Err(HpackError::HuffmanPadding)
    }
}

/// Reads a prefixed integer (RFC 7541 §5.1) whose first octet is `block[*pos]`, using its low
/// `prefix` bits (1–8); advances `pos`.
fn read_int(block: &[u8], pos: &mut usize, prefix: u32) -> Result<usize, HpackError> {
    let mask = ((1u32 << prefix) - 1) as u8;
    let first = *block.get(*pos).ok_or(HpackError::TruncatedInteger)?;
    *pos += 1;
    let mut value = usize::from(first & mask);
    if value < usize::from(mask) {
        return Ok(value);
    }
    for k in 0..MAX_INT_CONTINUATIONS {
        let b = *block.get(*pos).ok_or(HpackError::TruncatedInteger)?;
        *pos += 1;
        let add = usize::from(b & 0x7f)
            .checked_shl(7 * k as u32)
            .ok_or(HpackError::IntegerTooLong)?;
        value = value.checked_add(add).ok_or(HpackError::IntegerTooLong)?;
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(HpackError::IntegerTooLong)
}

/// Reads a string literal (RFC 7541 §5.2) into `scratch` if Huffman-coded, else borrows it
/// from `block`.
fn read_string<'a>(
    block: &'a [u8],
    pos: &mut usize,
    scratch: &'a mut Vec<u8>,
) -> Result<&'a [u8], HpackError> {
    let huffman = block.get(*pos).is_some_and(|b| b & 0x80 != 0);
    let len = read_int(block, pos, 7)?;
    let rest = block.get(*pos..).unwrap_or_default();
    let raw = rest.get(..len).ok_or(HpackError::TruncatedString {
        len,
        remaining: rest.len(),
    })?;
    *pos += len;
    if huffman {
        scratch.clear();
        huffman_decode(raw, scratch)?;
        Ok(scratch.as_slice())
    } else {
        Ok(raw)
    }
}

/// A dynamic table entry: name and value in one allocation.
struct Entry {
    bytes: Box<[u8]>,
    name_len: usize,
}

impl Entry {
    fn name(&self) -> &[u8] {
        self.bytes.get(..self.name_len).unwrap_or_default()
    }
    fn value(&self) -> &[u8] {
        self.bytes.get(self.name_len..).unwrap_or_default()
    }
    fn size(&self) -> usize {
        self.bytes.len() + ENTRY_OVERHEAD
    }
}

/// The dynamic table (RFC 7541 §2.3.2, §4): newest entry first.
struct DynamicTable {
    entries: VecDeque<Entry>,
    size: usize,
    max_size: usize,
}

impl DynamicTable {
    fn get(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.entries.get(i).map(|e| (e.name(), e.value()))
    }

    fn evict_to(&mut self, limit: usize) {
        while self.size > limit {
            match self.entries.pop_back() {
                Some(e) => self.size = self.size.saturating_sub(e.size()),
                None => {
                    self.size = 0;
                    break;
                }
            }
        }
    }

    fn set_max_size(&mut self, max: usize) {
        self.max_size = max;
        self.evict_to(max);
    }

    /// §4.4: evict until the entry fits; an entry larger than the table empties it and is
    /// not added.
    fn insert(&mut self, name: &[u8], value: &[u8]) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.max_size {
            self.evict_to(0);
            return;
        }
        self.evict_to(self.max_size - size);
        let mut bytes = Vec::with_capacity(name.len() + value.len());
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(value);
        self.entries.push_front(Entry {
            bytes: bytes.into_boxed_slice(),
            name_len: name.len(),
        });
        self.size += size;
    }
}

/// HPACK decoder for one direction of a connection (its dynamic table persists across
/// header blocks).
pub struct Decoder {
    table: DynamicTable,
    /// Bound on dynamic table size updates (SETTINGS_HEADER_TABLE_SIZE of the decoding side).
    max_allowed: usize,
    name_buf: Vec<u8>,
    value_buf: Vec<u8>,
}

impl Decoder {
    /// A decoder whose dynamic table starts at [`DEFAULT_TABLE_SIZE`] (capped at
    /// `max_allowed`) and accepts size updates up to `max_allowed`.
    pub fn new(max_allowed: usize) -> Self {
        Decoder {
            table: DynamicTable {
                entries: VecDeque::new(),
                size: 0,
                max_size: DEFAULT_TABLE_SIZE.min(max_allowed),
            },
            max_allowed,
            name_buf: Vec::new(),
            value_buf: Vec::new(),
        }
    }

    /// Sets the bound on later dynamic table size updates (the decoding side's
    /// SETTINGS_HEADER_TABLE_SIZE). The current table is left as is until the encoder
    /// signals a size update.
    pub fn set_max_allowed_table_size(&mut self, max_allowed: usize) {
        self.max_allowed = max_allowed;
    }

    /// Resizes the dynamic table directly (evicting as needed), as an in-band size update
    /// would; capped at the maximum allowed.
    pub fn set_max_table_size(&mut self, size: usize) {
        self.table.set_max_size(size.min(self.max_allowed));
    }

    /// Current dynamic table size (sum of entry sizes, §4.1).
    pub fn table_size(&self) -> usize {
        self.table.size
    }

    /// Current maximum dynamic table size.
    pub fn max_table_size(&self) -> usize {
        self.table.max_size
    }

    /// Dynamic table entries, newest first (index 62 first).
    pub fn dynamic_entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.table.entries.iter().map(|e| (e.name(), e.value()))
    }

    fn lookup(table: &DynamicTable, index: usize) -> Result<(&[u8], &[u8]), HpackError> {
        let found = match index {
            0 => None,
            i if i <= STATIC_TABLE.len() => STATIC_TABLE
                .get(i - 1)
                .map(|(n, v)| (n.as_bytes(), v.as_bytes())),
            i => table.get(i - STATIC_TABLE.len() - 1),
        };
        found.ok_or(HpackError::InvalidIndex(index))
    }

    /// Decodes one complete header block, calling `on_field(name, value)` for each field in
    /// order. On error, fields already reported stay reported and the dynamic table may hold
    /// the block's earlier insertions (the connection state is then unusable, §2.3.3).
    pub fn decode(
        &mut self,
        block: &[u8],
        mut on_field: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), HpackError> {
        let mut pos = 0;
        let mut seen_field = false;
        while let Some(&first) = block.get(pos) {
            if first & 0x80 != 0 {
                // §6.1 indexed field.
                let index = read_int(block, &mut pos, 7)?;
                let (n, v) = Self::lookup(&self.table, index)?;
                on_field(n, v);
                seen_field = true;
            } else if first & 0xe0 == 0x20 {
                // §6.3 dynamic table size update.
                if seen_field {
                    return Err(HpackError::TableSizeUpdateNotAtStart);
                }
                let size = read_int(block, &mut pos, 5)?;
                if size > self.max_allowed {
                    return Err(HpackError::TableSizeTooLarge {
                        size,
                        max: self.max_allowed,
                    });
                }
                self.table.set_max_size(size);
            } else {
                // §6.2 literals: with incremental indexing (01, 6-bit index), without
                // indexing (0000) or never indexed (0001), 4-bit index.
                let indexing = first & 0x40 != 0;
                let prefix = if indexing { 6 } else { 4 };
                let index = read_int(block, &mut pos, prefix)?;
                if indexing {
                    // The name may come from the table, which the insertion below can evict
                    // from: copy it first.
                    let name: &[u8] = if index == 0 {
                        read_string(block, &mut pos, &mut self.name_buf)?
                    } else {
                        let n = Self::lookup(&self.table, index)?.0;
                        self.name_buf.clear();
                        self.name_buf.extend_from_slice(n);
                        &self.name_buf
                    };
                    let value = read_string(block, &mut pos, &mut self.value_buf)?;
                    on_field(name, value);
                    self.table.insert(name, value);
                } else {
                    let name: &[u8] = if index == 0 {
                        read_string(block, &mut pos, &mut self.name_buf)?
                    } else {
                        Self::lookup(&self.table, index)?.0
                    };
                    let value = read_string(block, &mut pos, &mut self.value_buf)?;
                    on_field(name, value);
                }
                seen_field = true;
            }
        }
        Ok(())
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_TABLE_SIZE)
    }
}
