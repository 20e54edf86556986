//! [`EbpfCapture`] as an [`oisp_capture::Source`]: live capture is one endless capture whose
//! process/file/network records come from kernel tracepoints.

use crate::{CaptureStats, EbpfCapture};
use oisp_capture::{Observation, Progress, RawRecord, Source, SourceError, SourceStats};
use std::time::Duration;

/// The metadata of a live capture (also the header of `record --raw-out` files).
const META: &str = concat!(
    "{\"created_by\":\"oisp-sensor ",
    env!("CARGO_PKG_VERSION"),
    " record (eBPF)\",\"system_records\":\"kernel\"}"
);

impl From<CaptureStats> for SourceStats {
    fn from(c: CaptureStats) -> Self {
        SourceStats {
            records: c.records,
            lost_data: c.lost_tls,
            lost_system: c.lost_sys,
            truncated_bytes: c.truncated_bytes,
            ignored_sessions: c.ignored_sessions,
            skipped_calls: c.skipped_server_calls + c.skipped_ignored_calls,
            skipped_unknown: 0,
        }
    }
}

impl Source for EbpfCapture {
    fn meta(&self) -> &str {
        META
    }

    fn poll(
        &mut self,
        timeout: Duration,
        out: &mut Vec<RawRecord>,
    ) -> Result<Progress, SourceError> {
        EbpfCapture::poll(self, timeout, &mut |r| out.push(r))
            .map_err(|e| SourceError::Other(Box::new(e)))?;
        Ok(Progress::More)
    }

    fn finish(&mut self, out: &mut Vec<RawRecord>) {
        EbpfCapture::finish(self, &mut |r| out.push(r));
    }

    fn stats(&self) -> SourceStats {
        EbpfCapture::stats(self).into()
    }

    fn ignore_connection(&mut self, conn_id: u64) -> bool {
        EbpfCapture::ignore_connection(self, conn_id)
    }

    fn observed(&self) -> Vec<Observation> {
        let probes = self.attachments().iter().map(|a| Observation {
            kind: a.probe.to_string(),
            what: a.symbol.clone(),
            path: a.path.clone(),
        });
        let refused = self.unlocated().iter().map(|u| Observation {
            kind: "refused".to_string(),
            what: u.why.clone(),
            path: u.path.clone(),
        });
        probes.chain(refused).collect()
    }
}
