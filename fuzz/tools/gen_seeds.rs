//! Writes the seed corpora of every target from the recorded fixtures:
//! `cargo +nightly run --release --bin gen_seeds -- ../fixtures/captures corpus`.
//!
//! - `rawfile`, `decoder`: the fixture captures themselves (except the 2 MB large-prompt one).
//! - `http_stream`: per connection, the client and server byte streams in seq order, with a few
//!   flag/chunking variants.
//! - `providers`: per exchange the tracker decodes, its (decoded) request and response bodies
//!   with the shape selector matching its path.

use oisp_capture::{read_all, ConnRole, Direction, RawRecord};
use oisp_decode::conn::{ConnTracker, HttpOutput};
use oisp_fuzz::http_stream::{encode_http_stream, HS_CLOSE, HS_H2_PREFACE, HS_OPEN, HS_PERTURB};
use oisp_fuzz::providers::{
    encode_providers, status_selector, PV_EXTRA_HEADERS, PV_H2, PV_NDJSON, PV_NO_RESPONSE, PV_SSE,
};
use std::collections::BTreeMap;
use std::path::Path;

/// Per connection: role, egress chunks and ingress chunks as (seq, bytes).
type Streams = (ConnRole, Vec<(u64, Vec<u8>)>, Vec<(u64, Vec<u8>)>);

fn write(dir: &Path, name: &str, data: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), data).unwrap();
}

/// Shape selector for a request path (matching the table in the harness), if any.
fn selector(authority: &str, path: &str) -> Option<u8> {
    let p = path.split('?').next().unwrap_or(path);
    let host = authority.split(':').next().unwrap_or(authority);
    let sel = if host.ends_with("azure.com") {
        12
    } else if p.starts_with("/model/") {
        13
    } else if p.ends_with("/chat/completions") && host.contains("groq") {
        15
    } else if p.ends_with("/chat/completions") {
        0
    } else if p.ends_with("/responses") {
        1
    } else if p.ends_with("/embeddings") {
        2
    } else if p.ends_with("/completions") {
        3
    } else if p.ends_with("/messages/count_tokens") {
        5
    } else if p.ends_with("/messages") {
        4
    } else if p.contains(":streamGenerateContent") {
        if path.contains("alt=sse") {
            7
        } else {
            8
        }
    } else if p.contains(":generateContent") {
        6
    } else if p == "/api/chat" {
        9
    } else if p == "/api/generate" {
        10
    } else if p == "/api/embed" {
        11
    } else {
        return None;
    };
    Some(sel)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fixtures = Path::new(
        args.get(1)
            .map(String::as_str)
            .unwrap_or("../fixtures/captures"),
    );
    let corpus = Path::new(args.get(2).map(String::as_str).unwrap_or("corpus"));
    let mut files: Vec<_> = std::fs::read_dir(fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "oraw"))
        .filter(|p| !p.ends_with("large-prompt.oraw"))
        .collect();
    files.sort();
    let (mut n_stream, mut n_prov) = (0, 0);
    for f in files {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&f).unwrap();
        write(&corpus.join("rawfile"), &format!("{stem}.oraw"), &bytes);
        write(&corpus.join("decoder"), &format!("{stem}.oraw"), &bytes);
        let (records, err) = read_all(&bytes);
        assert!(err.is_none(), "{stem}: {err:?}");

        // Byte streams per connection: (role, egress chunks, ingress chunks).
        let mut conns: BTreeMap<u64, Streams> = BTreeMap::new();
        for r in &records {
            match r {
                RawRecord::ConnOpen(o) => {
                    conns
                        .entry(o.conn_id)
                        .or_insert_with(|| (ConnRole::Unknown, Vec::new(), Vec::new()))
                        .0 = o.role
                }
                RawRecord::Data(d) => {
                    let e = conns
                        .entry(d.conn_id)
                        .or_insert_with(|| (ConnRole::Unknown, Vec::new(), Vec::new()));
                    match d.direction {
                        Direction::Egress => e.1.push((d.seq, d.bytes.clone())),
                        Direction::Ingress => e.2.push((d.seq, d.bytes.clone())),
                    }
                }
                _ => {}
            }
        }
        for (id, (role, eg, ing)) in conns {
            let join = |mut v: Vec<(u64, Vec<u8>)>| {
                v.sort_by_key(|c| c.0);
                v.into_iter().flat_map(|c| c.1).collect::<Vec<u8>>()
            };
            let (eg, ing) = (join(eg), join(ing));
            let (client, server) = if role == ConnRole::Server {
                (ing, eg)
            } else {
                (eg, ing)
            };
            if client.is_empty() && server.is_empty() {
                continue;
            }
            // Natural order with open/close; then finer chunking with perturbation.
            let variants = [(HS_OPEN | HS_CLOSE, 5u16), (HS_PERTURB | HS_H2_PREFACE, 2)];
            for (k, (flags, seed)) in variants.into_iter().enumerate() {
                let seed_in = encode_http_stream(flags, seed, &client, &server);
                write(
                    &corpus.join("http_stream"),
                    &format!("{stem}-c{id}-{k}"),
                    &seed_in,
                );
                n_stream += 1;
            }
        }

        // Exchanges, as the tracker decodes them.
        let mut t = ConnTracker::default();
        let mut outs = Vec::new();
        for r in &records {
            outs.extend(t.push(r));
        }
        outs.extend(t.finish());
        for (k, o) in outs.iter().enumerate() {
            let HttpOutput::Exchange(ex) = o else {
                continue;
            };
            let authority = ex.request.authority.as_deref().unwrap_or("");
            let Some(sel) = selector(authority, &ex.request.path) else {
                continue;
            };
            let mut flags = 0u8;
            let mut status = 0u8;
            let mut resp: &[u8] = &[];
            match &ex.response {
                None => flags |= PV_NO_RESPONSE,
                Some(r) => {
                    resp = &r.body.bytes;
                    status = status_selector(r.status).unwrap_or(0);
                    let ct = r.headers.get("content-type").unwrap_or("");
                    if ct.contains("event-stream") {
                        flags |= PV_SSE;
                    } else if ct.contains("ndjson") {
                        flags |= PV_NDJSON;
                    }
                }
            }
            if ex.request.headers.get("x-stainless-lang").is_some() {
                flags |= PV_EXTRA_HEADERS;
            }
            if ex.version == oisp_decode::http::HttpVersion::Http2 {
                flags |= PV_H2;
            }
            let input = encode_providers(sel, flags, status, &ex.request.body.bytes, resp);
            write(&corpus.join("providers"), &format!("{stem}-x{k}"), &input);
            n_prov += 1;
        }
    }
    println!("http_stream seeds: {n_stream}, providers seeds: {n_prov}");
}
