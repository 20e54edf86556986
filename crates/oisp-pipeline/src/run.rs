//! [`run`]: the one loop that drives any capture source into a [`Pipeline`].

use crate::Pipeline;
use anyhow::Result;
use oisp_capture::{Progress, RawRecord, Source};
use std::time::Duration;

/// How long one poll waits for records (a file source returns at once).
pub const POLL_TIMEOUT: Duration = Duration::from_millis(200);

/// What a command adds to the loop: stopping, reconfiguring, reporting.
pub trait Hooks {
    /// Asked before every poll: `true` ends the run (e.g. a signal arrived). Default: never.
    fn should_stop(&mut self) -> bool {
        false
    }

    /// After every round (records decoded, ignorable connections handed back to the source,
    /// local sinks flushed): the place to swap sinks (`Pipeline::reconfigure`), publish counters
    /// or draw progress. Default: nothing.
    fn after_round(&mut self, source: &dyn Source, pipeline: &mut Pipeline) {
        let _ = (source, pipeline);
    }
}

/// No hooks: run until the source ends.
pub struct NoHooks;

impl Hooks for NoHooks {}

/// Drives `source` into `pipeline` until the source ends or `hooks` says stop.
///
/// Each round: poll (up to [`POLL_TIMEOUT`]) → push every record → hand the connection ids the
/// decoder found without AI traffic to [`Source::ignore_connection`] → flush local sinks →
/// [`Hooks::after_round`]. On [`Progress::CaptureEnded`] the capture is finished and decoding
/// reconfigured from the source's new metadata. At the end, what [`Source::finish`] still holds
/// is decoded; the last capture is left open for [`Pipeline::finish`] / [`Pipeline::close`].
///
/// A source error ends the run after the records read before it are decoded and the capture is
/// finished ([`Pipeline::finish`]); it is returned as is (`SourceError`), for the caller to name
/// the source.
pub fn run(source: &mut dyn Source, pipeline: &mut Pipeline, hooks: &mut dyn Hooks) -> Result<()> {
    pipeline.begin_capture(source.meta())?;
    let mut recs: Vec<RawRecord> = Vec::new();
    let mut ignorable: Vec<u64> = Vec::new();
    loop {
        if hooks.should_stop() {
            break;
        }
        recs.clear();
        let polled = source.poll(POLL_TIMEOUT, &mut recs);
        for r in &recs {
            pipeline.push(r)?;
        }
        let progress = match polled {
            Ok(p) => p,
            Err(e) => {
                // Decode what was read before the damage, then report it.
                pipeline.finish()?;
                return Err(e.into());
            }
        };
        // Overhead: client connections the decoder found to carry no AI traffic stop being
        // copied by the source (oisp-decode engine/ignore.rs has the rule).
        ignorable.clear();
        pipeline.drain_ignorable(&mut ignorable);
        for &conn_id in &ignorable {
            source.ignore_connection(conn_id);
        }
        // Readers (`show --follow`, `status`) see new events within a round.
        pipeline.flush()?;
        if progress == Progress::CaptureEnded {
            pipeline.finish()?;
            pipeline.begin_capture(source.meta())?;
        }
        hooks.after_round(&*source, pipeline);
        if progress == Progress::End {
            break;
        }
    }
    recs.clear();
    source.finish(&mut recs);
    for r in &recs {
        pipeline.push(r)?;
    }
    Ok(())
}
