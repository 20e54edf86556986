//! One module per subcommand.

pub mod analyze;
pub mod config;
pub mod demo;
pub mod proxy;
pub mod record;
pub mod replay;
pub mod run;
pub mod show;
pub mod status;
pub mod trace;
pub mod web;
