//! HPACK decoder (`oisp_decode::http::hpack`): RFC 7541 Appendix C examples, Huffman table
//! checks, error cases, and differential tests against loona-hpack (its encoder for round
//! trips; its decoder for verdicts on generated and mutated blocks).

use oisp_decode::http::hpack::{
    huffman_decode, Decoder, HpackError, DEFAULT_TABLE_SIZE, HUFFMAN_CODES, STATIC_TABLE,
};
use std::collections::VecDeque;

type Fields = Vec<(Vec<u8>, Vec<u8>)>;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn decode(d: &mut Decoder, block: &[u8]) -> Result<Fields, HpackError> {
    let mut out = Vec::new();
    d.decode(block, |n, v| out.push((n.to_vec(), v.to_vec())))?;
    Ok(out)
}

fn fields(list: &[(&str, &str)]) -> Fields {
    list.iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

fn table(d: &Decoder) -> Vec<(String, String)> {
    d.dynamic_entries()
        .map(|(n, v)| {
            (
                String::from_utf8(n.to_vec()).unwrap(),
                String::from_utf8(v.to_vec()).unwrap(),
            )
        })
        .collect()
}

fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Huffman code table (RFC 7541 Appendix B)

#[test]
fn huffman_table_is_a_complete_canonical_code() {
    // Kraft: a complete prefix code has sum 2^-len == 1.
    let kraft: u64 = HUFFMAN_CODES.iter().map(|&(_, l)| 1u64 << (30 - l)).sum();
    assert_eq!(kraft, 1 << 30);
    for (sym, &(code, len)) in HUFFMAN_CODES.iter().enumerate() {
        assert!((5..=30).contains(&len), "symbol {sym}");
        assert!(u64::from(code) < (1u64 << len), "symbol {sym}");
    }
    // Canonical: ordered by (length, symbol), each code is the previous one plus one, shifted
    // to the new length.
    let mut order: Vec<usize> = (0..HUFFMAN_CODES.len()).collect();
    order.sort_by_key(|&s| (HUFFMAN_CODES[s].1, s));
    let (mut prev_code, mut prev_len) = HUFFMAN_CODES[order[0]];
    assert_eq!(prev_code, 0);
    for &s in &order[1..] {
        let (code, len) = HUFFMAN_CODES[s];
        assert_eq!(code, (prev_code + 1) << (len - prev_len), "symbol {s}");
        (prev_code, prev_len) = (code, len);
    }
    // Spot checks against the RFC text.
    assert_eq!(HUFFMAN_CODES[b'/' as usize], (0x18, 6));
    assert_eq!(HUFFMAN_CODES[b'0' as usize], (0x0, 5));
    assert_eq!(HUFFMAN_CODES[256], (0x3fffffff, 30));
}

/// Test-side Huffman encoder from the table (pads with ones, §5.2).
fn huffman_encode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for &b in s {
        let (code, len) = HUFFMAN_CODES[b as usize];
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1u64 << bits) - 1;
    }
    if bits > 0 {
        let pad = 8 - bits;
        out.push(((acc << pad) | ((1 << pad) - 1)) as u8);
    }
    out
}

fn huff(src: &[u8]) -> Result<Vec<u8>, HpackError> {
    let mut out = Vec::new();
    huffman_decode(src, &mut out).map(|()| out)
}

#[test]
fn huffman_every_symbol_round_trips() {
    for b in 0..=255u8 {
        for n in 1..=9 {
            let s = vec![b; n];
            assert_eq!(huff(&huffman_encode(&s)).unwrap(), s, "byte {b} x{n}");
        }
    }
    let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    assert_eq!(huff(&huffman_encode(&all)).unwrap(), all);
    assert_eq!(huff(&[]).unwrap(), b"");
}

#[test]
fn huffman_rfc_strings() {
    assert_eq!(
        huff(&hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff")).unwrap(),
        b"www.example.com"
    );
    assert_eq!(huff(&hex("a8eb 1064 9cbf")).unwrap(), b"no-cache");
    assert_eq!(huff(&hex("25a8 49e9 5ba9 7d7f")).unwrap(), b"custom-key");
    assert_eq!(
        huff(&hex("94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07")).unwrap(),
        b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
    );
}

#[test]
fn huffman_rejects_bad_padding_and_eos() {
    // 'a' = 00011, padded with 111.
    assert_eq!(huff(&[0x1f]).unwrap(), b"a");
    // Padding not all ones.
    assert_eq!(huff(&[0x18]), Err(HpackError::HuffmanPadding));
    assert_eq!(huff(&[0x1e]), Err(HpackError::HuffmanPadding));
    // 'a' then 11 one-bits: padding longer than 7 bits.
    assert_eq!(huff(&[0x1f, 0xff]), Err(HpackError::HuffmanPadding));
    // A whole octet of ones alone is padding longer than 7 bits.
    assert_eq!(huff(&[0xff]), Err(HpackError::HuffmanPadding));
    // 32 ones contain EOS (30 ones).
    assert_eq!(huff(&[0xff; 4]), Err(HpackError::HuffmanEos));
    // EOS followed by a symbol.
    assert_eq!(huff(&[0xff, 0xff, 0xff, 0xfc]), Err(HpackError::HuffmanEos));
    // 29 ones + a zero-led tail: incomplete long code as padding.
    assert_eq!(
        huff(&[0xff, 0xff, 0xff, 0xf8]),
        Err(HpackError::HuffmanPadding)
    );
}

// ---------------------------------------------------------------------------------------------
// RFC 7541 Appendix C

#[test]
fn rfc_c1_integers_through_size_updates() {
    // C.1.2: 1337 on a 5-bit prefix, as a dynamic table size update.
    let mut d = Decoder::new(1 << 20);
    assert_eq!(decode(&mut d, &[0x3f, 0x9a, 0x0a]).unwrap(), vec![]);
    assert_eq!(d.max_table_size(), 1337);
    // 31 exactly needs a zero continuation octet.
    decode(&mut d, &[0x3f, 0x00]).unwrap();
    assert_eq!(d.max_table_size(), 31);
    decode(&mut d, &[0x3e]).unwrap();
    assert_eq!(d.max_table_size(), 30);
}

#[test]
fn rfc_c2_field_representations() {
    // C.2.1 literal with indexing.
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    let b = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
    assert_eq!(
        decode(&mut d, &b).unwrap(),
        fields(&[("custom-key", "custom-header")])
    );
    assert_eq!(table(&d), owned(&[("custom-key", "custom-header")]));
    assert_eq!(d.table_size(), 55);

    // C.2.2 literal without indexing.
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    let b = hex("040c 2f73 616d 706c 652f 7061 7468");
    assert_eq!(
        decode(&mut d, &b).unwrap(),
        fields(&[(":path", "/sample/path")])
    );
    assert_eq!(d.table_size(), 0);

    // C.2.3 never indexed.
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    let b = hex("1008 7061 7373 776f 7264 0673 6563 7265 74");
    assert_eq!(
        decode(&mut d, &b).unwrap(),
        fields(&[("password", "secret")])
    );
    assert_eq!(d.table_size(), 0);

    // C.2.4 indexed.
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    assert_eq!(
        decode(&mut d, &[0x82]).unwrap(),
        fields(&[(":method", "GET")])
    );
    assert_eq!(d.table_size(), 0);
}

fn requests(blocks: [&str; 3]) {
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    assert_eq!(
        decode(&mut d, &hex(blocks[0])).unwrap(),
        fields(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
        ])
    );
    assert_eq!(table(&d), owned(&[(":authority", "www.example.com")]));
    assert_eq!(d.table_size(), 57);

    assert_eq!(
        decode(&mut d, &hex(blocks[1])).unwrap(),
        fields(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
            ("cache-control", "no-cache"),
        ])
    );
    assert_eq!(
        table(&d),
        owned(&[
            ("cache-control", "no-cache"),
            (":authority", "www.example.com")
        ])
    );
    assert_eq!(d.table_size(), 110);

    assert_eq!(
        decode(&mut d, &hex(blocks[2])).unwrap(),
        fields(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/index.html"),
            (":authority", "www.example.com"),
            ("custom-key", "custom-value"),
        ])
    );
    assert_eq!(
        table(&d),
        owned(&[
            ("custom-key", "custom-value"),
            ("cache-control", "no-cache"),
            (":authority", "www.example.com"),
        ])
    );
    assert_eq!(d.table_size(), 164);
}

#[test]
fn rfc_c3_requests_without_huffman() {
    requests([
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ]);
}

#[test]
fn rfc_c4_requests_with_huffman() {
    requests([
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ]);
}

fn responses(blocks: [&str; 3]) {
    // SETTINGS_HEADER_TABLE_SIZE = 256.
    let mut d = Decoder::new(256);
    assert_eq!(d.max_table_size(), 256);
    let date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
    let loc = "https://www.example.com";
    assert_eq!(
        decode(&mut d, &hex(blocks[0])).unwrap(),
        fields(&[
            (":status", "302"),
            ("cache-control", "private"),
            ("date", date1),
            ("location", loc),
        ])
    );
    assert_eq!(
        table(&d),
        owned(&[
            ("location", loc),
            ("date", date1),
            ("cache-control", "private"),
            (":status", "302"),
        ])
    );
    assert_eq!(d.table_size(), 222);

    assert_eq!(
        decode(&mut d, &hex(blocks[1])).unwrap(),
        fields(&[
            (":status", "307"),
            ("cache-control", "private"),
            ("date", date1),
            ("location", loc),
        ])
    );
    assert_eq!(
        table(&d),
        owned(&[
            (":status", "307"),
            ("location", loc),
            ("date", date1),
            ("cache-control", "private"),
        ])
    );
    assert_eq!(d.table_size(), 222);

    let date2 = "Mon, 21 Oct 2013 20:13:22 GMT";
    let cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
    assert_eq!(
        decode(&mut d, &hex(blocks[2])).unwrap(),
        fields(&[
            (":status", "200"),
            ("cache-control", "private"),
            ("date", date2),
            ("location", loc),
            ("content-encoding", "gzip"),
            ("set-cookie", cookie),
        ])
    );
    assert_eq!(
        table(&d),
        owned(&[
            ("set-cookie", cookie),
            ("content-encoding", "gzip"),
            ("date", date2),
        ])
    );
    assert_eq!(d.table_size(), 215);
}

#[test]
fn rfc_c5_responses_without_huffman() {
    responses([
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
         2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
         6c65 2e63 6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
         54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
         5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
         3d31",
    ]);
}

#[test]
fn rfc_c6_responses_with_huffman() {
    responses([
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
         9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    ]);
}

// ---------------------------------------------------------------------------------------------
// Errors and limits

#[test]
fn errors_say_what_went_wrong() {
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    assert_eq!(decode(&mut d, &[0x80]), Err(HpackError::InvalidIndex(0)));
    assert_eq!(decode(&mut d, &[0xbe]), Err(HpackError::InvalidIndex(62)));
    assert_eq!(decode(&mut d, &[0x7f]), Err(HpackError::TruncatedInteger));
    assert_eq!(
        decode(&mut d, &[0xff, 0x80]),
        Err(HpackError::TruncatedInteger)
    );
    assert_eq!(
        decode(&mut d, &[0xff, 0x80, 0x80, 0x80, 0x80, 0x01]),
        Err(HpackError::IntegerTooLong)
    );
    // Largest accepted integer: four continuation octets.
    assert_eq!(
        decode(&mut d, &[0xff, 0xff, 0xff, 0xff, 0x7f]),
        Err(HpackError::InvalidIndex(127 + (1 << 28) - 1))
    );
    // A huge string length with nothing behind it: rejected before any allocation.
    assert_eq!(
        decode(&mut d, &[0x00, 0xff, 0xff, 0xff, 0xff, 0x7f]),
        Err(HpackError::TruncatedString {
            len: 127 + (1 << 28) - 1,
            remaining: 0
        })
    );
    assert_eq!(
        decode(&mut d, &[0x00, 0x03, b'a', b'b']),
        Err(HpackError::TruncatedString {
            len: 3,
            remaining: 2
        })
    );
    // Literal name index beyond the tables.
    assert_eq!(
        decode(&mut d, &[0x0f, 0x40, 0x00]),
        Err(HpackError::InvalidIndex(79))
    );
    // Size update after a field.
    assert_eq!(
        decode(&mut d, &[0x82, 0x20]),
        Err(HpackError::TableSizeUpdateNotAtStart)
    );
    // Size update above the allowed maximum.
    assert_eq!(
        decode(&mut d, &[0x3f, 0xe2, 0x1f]),
        Err(HpackError::TableSizeTooLarge {
            size: 4097,
            max: 4096
        })
    );
    // Several updates at the start are fine (§4.2: smallest, then final).
    assert_eq!(
        decode(&mut d, &[0x20, 0x3f, 0xe1, 0x1f, 0x82]).unwrap(),
        fields(&[(":method", "GET")])
    );
    assert_eq!(d.max_table_size(), 4096);
    for e in [
        HpackError::HuffmanEos,
        HpackError::TableSizeUpdateNotAtStart,
        HpackError::InvalidIndex(3),
    ] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn max_allowed_bounds_updates_without_shrinking_the_table() {
    let mut d = Decoder::new(1 << 20);
    decode(
        &mut d,
        &hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
    )
    .unwrap();
    d.set_max_allowed_table_size(40);
    // The table keeps its entry until the encoder signals the new size.
    assert_eq!(d.table_size(), 55);
    assert_eq!(
        decode(&mut d, &[0x3f, 0x0a]), // 41
        Err(HpackError::TableSizeTooLarge { size: 41, max: 40 })
    );
    decode(&mut d, &[0x3f, 0x09]).unwrap(); // 40: evicts
    assert_eq!(d.table_size(), 0);
    assert_eq!(d.max_table_size(), 40);
    // An entry larger than the table empties it and is not added (§4.4).
    decode(
        &mut d,
        &hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
    )
    .unwrap();
    assert_eq!(d.table_size(), 0);
    d.set_max_table_size(1000);
    assert_eq!(d.max_table_size(), 40, "capped at the allowed maximum");
}

#[test]
fn static_table_matches_rfc_appendix_a_samples() {
    assert_eq!(STATIC_TABLE.len(), 61);
    assert_eq!(STATIC_TABLE[0], (":authority", ""));
    assert_eq!(STATIC_TABLE[15], ("accept-encoding", "gzip, deflate"));
    assert_eq!(STATIC_TABLE[60], ("www-authenticate", ""));
    let mut d = Decoder::new(DEFAULT_TABLE_SIZE);
    for i in 1..=61u8 {
        let f = decode(&mut d, &[0x80 | i]).unwrap();
        let (n, v) = STATIC_TABLE[usize::from(i) - 1];
        assert_eq!(f, fields(&[(n, v)]));
    }
}

// ---------------------------------------------------------------------------------------------
// Differential tests against loona-hpack

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const NAMES: &[&str] = &[
    ":method",
    ":path",
    ":authority",
    ":status",
    "content-type",
    "authorization",
    "user-agent",
    "x-request-id",
    "openai-organization",
    "anthropic-version",
    "accept",
    "cache-control",
];

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    match rng.below(10) {
        // Repeats: a small pool so the dynamic table is hit.
        0..=3 => {
            let pool = [
                "application/json",
                "GET",
                "POST",
                "/v1/chat/completions",
                "api.openai.com",
                "200",
                "no-cache",
                "",
            ];
            pool[rng.below(pool.len())].as_bytes().to_vec()
        }
        // Long values (fill and evict the table).
        4 => (0..rng.below(3000))
            .map(|_| b"abcdefghijklmnopqrstuvwxyz0123456789-_/"[rng.below(39)])
            .collect(),
        // Arbitrary octets, non-ASCII included.
        5 | 6 => (0..rng.below(40)).map(|_| rng.next() as u8).collect(),
        _ => (0..rng.below(24))
            .map(|_| b' ' + rng.below(95) as u8)
            .collect(),
    }
}

fn random_header_list(rng: &mut Rng) -> Fields {
    (0..rng.below(12))
        .map(|_| {
            let name = if rng.chance(60) {
                NAMES[rng.below(NAMES.len())].as_bytes().to_vec()
            } else {
                random_bytes(rng)
            };
            (name, random_bytes(rng))
        })
        .collect()
}

fn loona_decode(d: &mut loona_hpack::Decoder<'static>, block: &[u8]) -> Result<Fields, String> {
    let mut out = Vec::new();
    d.decode_with_cb(block, |n, v| out.push((n.into_owned(), v.into_owned())))
        .map(|()| out)
        .map_err(|e| format!("{e:?}"))
}

fn enc_int(out: &mut Vec<u8>, mut v: usize, prefix: u32, first: u8) {
    let max = (1usize << prefix) - 1;
    if v < max {
        out.push(first | v as u8);
        return;
    }
    out.push(first | max as u8);
    v -= max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
}

fn enc_str(out: &mut Vec<u8>, s: &[u8], huffman: bool) {
    if huffman {
        let h = huffman_encode(s);
        enc_int(out, h.len(), 7, 0x80);
        out.extend_from_slice(&h);
    } else {
        enc_int(out, s.len(), 7, 0);
        out.extend_from_slice(s);
    }
}

/// Test-side encoder with its own model of the dynamic table, using every representation.
struct Model {
    table: VecDeque<(Vec<u8>, Vec<u8>)>,
    size: usize,
    max: usize,
}

impl Model {
    fn evict(&mut self, limit: usize) {
        while self.size > limit {
            let (n, v) = self.table.pop_back().unwrap();
            self.size -= n.len() + v.len() + 32;
        }
    }
    fn add(&mut self, n: &[u8], v: &[u8]) {
        let s = n.len() + v.len() + 32;
        if s > self.max {
            self.evict(0);
            return;
        }
        self.evict(self.max - s);
        self.table.push_front((n.to_vec(), v.to_vec()));
        self.size += s;
    }
    fn find(&self, n: &[u8], v: Option<&[u8]>) -> Option<usize> {
        let stat = STATIC_TABLE
            .iter()
            .position(|(sn, sv)| sn.as_bytes() == n && v.is_none_or(|v| sv.as_bytes() == v));
        let dynm = self
            .table
            .iter()
            .position(|(dn, dv)| dn == n && v.is_none_or(|v| dv == v));
        stat.map(|i| i + 1).or(dynm.map(|i| i + 62))
    }

    fn encode(&mut self, rng: &mut Rng, list: &Fields, allowed: usize) -> Vec<u8> {
        let mut out = Vec::new();
        if rng.chance(15) {
            for _ in 0..=rng.below(2) {
                let sizes = [0, 64, 200, 1000, 4096, allowed];
                let s = sizes[rng.below(sizes.len())].min(allowed);
                enc_int(&mut out, s, 5, 0x20);
                self.max = s;
                self.evict(s);
            }
        }
        for (n, v) in list {
            if let Some(i) = self.find(n, Some(v)).filter(|_| rng.chance(70)) {
                enc_int(&mut out, i, 7, 0x80);
                continue;
            }
            let (first, prefix, index) = match rng.below(3) {
                0 => (0x40, 6, true),
                1 => (0x00, 4, false),
                _ => (0x10, 4, false),
            };
            match self.find(n, None).filter(|_| rng.chance(70)) {
                Some(i) => enc_int(&mut out, i, prefix, first),
                None => {
                    enc_int(&mut out, 0, prefix, first);
                    enc_str(&mut out, n, rng.chance(50));
                }
            }
            enc_str(&mut out, v, rng.chance(50));
            if index {
                self.add(n, v);
            }
        }
        out
    }
}

fn new_loona(allowed: usize) -> loona_hpack::Decoder<'static> {
    let mut d = loona_hpack::Decoder::new();
    d.set_max_allowed_table_size(allowed);
    d
}

#[test]
fn differential_loona_encoder_round_trip() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut fields_checked = 0usize;
    for _conn in 0..60 {
        let mut enc = loona_hpack::Encoder::new();
        let mut ours = Decoder::new(1 << 16);
        for _ in 0..60 {
            let list = random_header_list(&mut rng);
            let mut block = Vec::new();
            if rng.chance(10) {
                let s = [0, 100, 512, 4096, 20000][rng.below(5)];
                enc.set_max_table_size(s);
                enc_int(&mut block, s, 5, 0x20);
            }
            block.extend(enc.encode(list.iter().map(|(n, v)| (&n[..], &v[..]))));
            assert_eq!(decode(&mut ours, &block).unwrap(), list);
            fields_checked += list.len();
        }
    }
    assert!(fields_checked > 10_000, "{fields_checked}");
}

#[test]
fn differential_all_representations_against_loona_decoder() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let allowed = 1 << 14;
    let mut blocks = 0;
    for _conn in 0..80 {
        let mut model = Model {
            table: VecDeque::new(),
            size: 0,
            max: DEFAULT_TABLE_SIZE,
        };
        let mut ours = Decoder::new(allowed);
        let mut theirs = new_loona(allowed);
        for _ in 0..30 {
            let list = random_header_list(&mut rng);
            let block = model.encode(&mut rng, &list, allowed);
            let got = decode(&mut ours, &block).unwrap();
            assert_eq!(got, list);
            assert_eq!(ours.table_size(), model.size);
            // loona rejects a block ending with a size update (see the disagreement test).
            if !list.is_empty() || block.is_empty() {
                assert_eq!(loona_decode(&mut theirs, &block).unwrap(), list);
            } else {
                let _ = loona_decode(&mut theirs, &block);
            }
            blocks += 1;
        }
    }
    assert_eq!(blocks, 2400);
}

#[derive(Default, Debug)]
struct Verdicts {
    both_ok: usize,
    both_err: usize,
    /// We reject a size update after a field (RFC 7541 §4.2); loona accepts it.
    mid_block_size_update: usize,
    /// A block of size updates only: valid per RFC 7541; loona rejects it (SizeUpdateAtEnd).
    size_update_only_block: usize,
}

fn compare(
    ours: &mut Decoder,
    theirs: &mut loona_hpack::Decoder<'static>,
    block: &[u8],
    v: &mut Verdicts,
) -> bool {
    let a = decode(ours, block);
    let b = loona_decode(theirs, block);
    match (&a, &b) {
        (Ok(x), Ok(y)) => {
            assert_eq!(x, y, "block {block:02x?}");
            v.both_ok += 1;
            true
        }
        (Err(_), Err(_)) => {
            v.both_err += 1;
            false
        }
        (Err(HpackError::TableSizeUpdateNotAtStart), Ok(_)) => {
            v.mid_block_size_update += 1;
            false
        }
        (Ok(x), Err(e)) if e == "SizeUpdateAtEnd" && x.is_empty() => {
            v.size_update_only_block += 1;
            false
        }
        _ => panic!("verdicts differ on {block:02x?}: ours {a:?}, loona {b:?}"),
    }
}

fn mutate(rng: &mut Rng, block: &mut Vec<u8>) {
    for _ in 0..=rng.below(3) {
        match rng.below(5) {
            0 if !block.is_empty() => {
                let i = rng.below(block.len());
                block[i] ^= 1 << rng.below(8);
            }
            1 if !block.is_empty() => {
                let i = rng.below(block.len());
                block[i] = rng.next() as u8;
            }
            2 => {
                let keep = rng.below(block.len() + 1);
                block.truncate(keep);
            }
            3 => {
                let i = rng.below(block.len() + 1);
                block.insert(i, rng.next() as u8);
            }
            _ => {
                let i = rng.below(block.len() + 1);
                let extra: Vec<u8> = (0..rng.below(8)).map(|_| rng.next() as u8).collect();
                block.splice(i..i, extra);
            }
        }
    }
}

#[test]
fn differential_mutated_and_random_blocks_against_loona_decoder() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let allowed = 1 << 14;
    let mut v = Verdicts::default();
    // Mutated blocks within connections whose earlier blocks were valid (tables in sync).
    for _conn in 0..800 {
        let mut model = Model {
            table: VecDeque::new(),
            size: 0,
            max: DEFAULT_TABLE_SIZE,
        };
        let mut ours = Decoder::new(allowed);
        let mut theirs = new_loona(allowed);
        for _ in 0..8 {
            let list = random_header_list(&mut rng);
            let mut block = model.encode(&mut rng, &list, allowed);
            let mutated = rng.chance(40);
            if mutated {
                mutate(&mut rng, &mut block);
            }
            if !compare(&mut ours, &mut theirs, &block, &mut v) || mutated {
                break; // states may now differ from the model
            }
        }
    }
    // Purely random blocks, fresh decoders, biased towards valid-looking first octets.
    for _ in 0..100_000 {
        let len = rng.below(24);
        let block: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let mut ours = Decoder::new(allowed);
        let mut theirs = new_loona(allowed);
        compare(&mut ours, &mut theirs, &block, &mut v);
    }
    eprintln!("verdicts: {v:?}");
    assert!(v.both_ok > 1_000, "{v:?}");
    assert!(v.both_err > 10_000, "{v:?}");
}

#[test]
fn known_disagreements_with_loona() {
    // 1. Size update after a field: RFC 7541 §4.2 requires it at the start of a block; loona
    //    accepts it anywhere but at the very end.
    let mut ours = Decoder::new(DEFAULT_TABLE_SIZE);
    let mut theirs = new_loona(DEFAULT_TABLE_SIZE);
    let block = [0x82, 0x3f, 0x00, 0x84];
    assert_eq!(
        decode(&mut ours, &block),
        Err(HpackError::TableSizeUpdateNotAtStart)
    );
    assert!(loona_decode(&mut theirs, &block).is_ok());
    // 2. A block holding only a size update: valid per RFC 7541 (empty field list); loona
    //    rejects it as "SizeUpdateAtEnd".
    let mut ours = Decoder::new(DEFAULT_TABLE_SIZE);
    let mut theirs = new_loona(DEFAULT_TABLE_SIZE);
    assert_eq!(decode(&mut ours, &[0x20]).unwrap(), vec![]);
    assert_eq!(
        loona_decode(&mut theirs, &[0x20]),
        Err("SizeUpdateAtEnd".to_string())
    );
}
