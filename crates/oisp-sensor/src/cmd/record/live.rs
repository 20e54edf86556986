//! The live capture `record` drives: eBPF, in Linux builds with the `ebpf` feature (the
//! default). Other builds keep every other command (`run`, `proxy`, `show`, `web`, …) and
//! `record` says what to use instead.

use crate::config::RecordConfig;

#[cfg(all(target_os = "linux", feature = "ebpf"))]
mod imp {
    use super::RecordConfig;
    use oisp_ebpf::{CaptureOptions, EbpfCapture};

    /// The live capture source.
    pub type Live = EbpfCapture;

    /// Loads and attaches every probe `[record]` asks for.
    pub fn start(r: &RecordConfig) -> Result<Live, String> {
        EbpfCapture::start(&CaptureOptions {
            ssl: r.ssl,
            process: r.process,
            file: r.file,
            network: r.network,
            plaintext: r.plaintext,
            all_processes: r.all_processes,
            pid: r.pid,
            comm: r.process_name.clone(),
        })
        .map_err(|e| e.to_string())
    }

    /// Probes attached.
    pub fn probes(live: &Live) -> usize {
        live.attachments().len()
    }
}

#[cfg(not(all(target_os = "linux", feature = "ebpf")))]
mod imp {
    use super::RecordConfig;
    use oisp_capture::{Progress, RawRecord, Source, SourceError, SourceStats};
    use std::time::Duration;

    /// No live capture in this build: a source that cannot exist.
    pub enum Live {}

    pub fn start(_: &RecordConfig) -> Result<Live, String> {
        Err(
            "this build has no eBPF capture (Linux builds with the `ebpf` feature only); \
             capture without it through the proxy: `oisp-sensor run -- CMD` or `oisp-sensor proxy`"
                .into(),
        )
    }

    pub fn probes(live: &Live) -> usize {
        match *live {}
    }

    impl Source for Live {
        fn meta(&self) -> &str {
            match *self {}
        }
        fn poll(&mut self, _: Duration, _: &mut Vec<RawRecord>) -> Result<Progress, SourceError> {
            match *self {}
        }
        fn finish(&mut self, _: &mut Vec<RawRecord>) {
            match *self {}
        }
        fn stats(&self) -> SourceStats {
            match *self {}
        }
    }
}

pub use imp::{probes, start};
