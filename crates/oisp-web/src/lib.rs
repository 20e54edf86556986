//! The web UI of oisp-sensor: an HTTP server over the event store with the browser app
//! embedded in the binary.
//!
//! - Everything is read from the store (a SQLite file in WAL mode), so `oisp-sensor web` on a
//!   store that a running `record` writes, and `record --web` in the same process, behave the
//!   same: history by server-side pages, new events pushed to the page as they are stored
//!   (Server-Sent Events fed by polling the store's row ids).
//! - The browser app is plain ES modules and CSS in `ui/`, embedded with `include_str!`: there
//!   is no bundler, so a clean clone builds with cargo alone and the binary needs no Node.
//! - Binding to anything but a loopback address requires a token; every route (pages and API)
//!   then checks it (`Authorization: Bearer`, the `oisp_token` cookie, or `?token=`, which the
//!   page turns into the cookie).
//! - Sensor health comes from the state file a running `record` publishes.

mod api;
mod assets;
mod auth;
mod pool;
mod server;
mod summary;

pub use server::{start, WebConfig, WebError, WebServer};

/// The default listen address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:7777";
