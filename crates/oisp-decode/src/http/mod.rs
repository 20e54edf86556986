//! HTTP layer: reassembled connection bytes → `HttpExchange`s.

mod exchange;

pub use exchange::*;
