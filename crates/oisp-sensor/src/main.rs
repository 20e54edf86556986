//! `oisp-sensor`: thin binary — parse arguments, run the chosen command, map errors to exit codes.

mod cli;
mod cmd;
mod config;
mod events_io;
mod report;
mod runtime_state;
mod sessions;
mod settings;
mod status;
mod style;
mod timeline;
mod trace_view;
mod tui;

use clap::Parser;
use cli::{exit, Cli, Command};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let result = match cli.command {
        Command::Status(a) => cmd::status::run(&a),
        Command::Demo(a) => cmd::demo::run(&a),
        Command::Replay(a) => cmd::replay::run(&a),
        Command::Show(a) => cmd::show::run(&a),
        Command::Analyze(a) => cmd::analyze::run(&a),
        Command::Tui(a) => tui::run(&a),
        Command::Record(a) => cmd::record::run(&a),
        Command::Config(a) => cmd::config::run(&a),
        Command::Web(a) => cmd::web::run(&a),
        Command::Proxy(a) => cmd::proxy::run(&a),
        Command::Run(a) => cmd::run::run(&a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) if is_broken_pipe(&e) => std::process::exit(exit::OK),
        Err(e) => {
            eprintln!("oisp-sensor: error: {e:#}");
            std::process::exit(exit::ERROR);
        }
    }
}

/// A reader of our output went away (`oisp-sensor show | head`): not an error worth reporting.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
