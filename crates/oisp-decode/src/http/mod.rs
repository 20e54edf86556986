//! HTTP layer: reassembled connection bytes → `HttpExchange`s.
//!
//! Modules: `h1*` (HTTP/1.x heads, framing, connection pairing), `h2*` (frames, HPACK, streams),
//! `body`/`coding` (de-chunked body assembly, content decoding), `sse` (event streams), `build`
//! (assembly of exchanges). Connection tracking and reassembly live in [`crate::conn`].

mod body;
mod build;
mod coding;
mod common;
mod exchange;
mod h1;
mod h1_framing;
mod h1_head;
mod h2;
mod h2_frame;
pub mod hpack;
mod sse;

pub use common::{ChunkMeta, HttpOutput, Limits, Side};
pub use exchange::*;
pub use h2_frame::PREFACE;
pub use sse::SseParser;

pub(crate) use common::{Emit, End};
pub(crate) use h1::{Flow, H1Conn};
pub(crate) use h2::H2Conn;
