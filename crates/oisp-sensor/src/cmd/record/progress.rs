//! The progress line `record` redraws on a terminal (standard error), twice a second.

use oisp_capture::Source;
use oisp_pipeline::Pipeline;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the line is redrawn.
const EVERY: Duration = Duration::from_millis(500);

/// The progress line; draws nothing when standard error is not a terminal.
pub struct Line {
    tty: bool,
    last: Instant,
}

impl Line {
    pub fn new() -> Self {
        Line {
            tty: std::io::stderr().is_terminal(),
            last: Instant::now(),
        }
    }

    /// Redraws the line when it is [`EVERY`] old.
    pub fn tick(&mut self, source: &dyn Source, pipeline: &Pipeline) {
        if !self.tty || self.last.elapsed() < EVERY {
            return;
        }
        self.last = Instant::now();
        let s = pipeline.stats();
        let c = source.stats();
        let lag: u64 = pipeline
            .sinks()
            .health()
            .iter()
            .map(|(_, h)| h.queued)
            .sum();
        eprint!(
            "\r\x1b[Koisp-sensor: {} events, {} AI calls, {} records, {} dropped, {} queued for sinks",
            pipeline.events_written(),
            s.ai_calls,
            c.records,
            c.lost_data + c.lost_system,
            lag
        );
        let _ = std::io::stderr().flush();
    }

    /// Ends the line (before the summary).
    pub fn end(&self) {
        if self.tty {
            eprintln!();
        }
    }
}
