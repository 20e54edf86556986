//! `oisp-sensor status`: this build's capabilities and the kernel checklist.

use crate::cli::{exit, StatusArgs};
use crate::runtime_state::{self, RecordState};
use crate::status::kernel::{self, Check, State};
use crate::style::Style;
use serde::Serialize;

/// What this build can do, independent of the machine it runs on.
#[derive(Debug, Serialize)]
struct BuildInfo {
    version: &'static str,
    capture_sources: Vec<(&'static str, &'static str)>,
    protocols: Vec<&'static str>,
    providers: Vec<String>,
    models_priced: usize,
}

fn build_info() -> BuildInfo {
    BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        capture_sources: vec![
            ("replay", "raw capture files (oisp-sensor replay FILE)"),
            ("demo", "bundled captures recorded from real SDK clients"),
            (
                "ebpf",
                "oisp-sensor record: session uprobes (kernel 6.13+; uprobes+uretprobes before) SSL_write/SSL_read/SSL_write_ex/SSL_read_ex, or where both forms meet inside libssl (ssl_write_internal/ssl_read_internal, found from the code bytes), uprobes SSL_set_fd/SSL_free (libssl.so* and executables exporting them); BoringSSL SSL_read/SSL_write in stripped executables (Claude Code), located from the code's structure; GnuTLS gnutls_record_send2 (or gnutls_record_send)/gnutls_record_recv(_seq), uprobes gnutls_deinit/gnutls_server_name_set/gnutls_alpn_get_selected_protocol (libgnutls.so*); rustls on AWS-LC EVP_AEAD_CTX_seal/EVP_AEAD_CTX_open in stripped executables (Codex), located from the code's structure; Go crypto/tls (*Conn).Write/Read (uprobes at entry and at each ret, no uretprobes)/Close and SNI (hostnameInSNI under makeClientHello) in Go executables, by symbol or from .gopclntab; NSS PR_Write/PR_Send/PR_Read/PR_Recv on SSL descriptors (libnspr4.so, SSL layer learnt at SSL_ImportFD in libssl3.so), PR_Close, SSL_SetURL; tp_btf sched_process_exec/exit/fork; syscall tracepoints read/write/sendto/recvfrom/readv/writev/sendmsg/recvmsg enter and exit (TLS fd; plaintext HTTP and TLS ClientHellos on connected TCP sockets), close, openat/open/creat/write/pwrite64/writev/rename*/unlink*, connect",
            ),
        ],
        protocols: vec![
            "HTTP/1.0, HTTP/1.1 (keep-alive, pipelining, chunked, 100-continue, upgrade)",
            "HTTP/2 (HPACK, concurrent streams)",
            "content-encoding gzip, deflate, br, zstd",
            "Server-Sent Events, NDJSON and JSON-array streaming",
        ],
        providers: oisp_decode::providers::supported_provider_names(),
        models_priced: oisp_decode::providers::priced_model_count(),
    }
}

#[derive(Serialize)]
struct StatusJson<'a> {
    build: &'a BuildInfo,
    kernel: &'a [Check],
    capture_possible: bool,
    /// The running `record`, if any: attached probes and counters (drops included).
    record: Option<&'a RecordState>,
    /// The running `proxy`, if any: where it listens, its CA, counters and sinks.
    proxy: Option<&'a RecordState>,
}

pub fn run(args: &StatusArgs) -> anyhow::Result<i32> {
    let build = build_info();
    let checks = kernel::checks();
    let possible = kernel::capture_possible(&checks);
    let record = runtime_state::running();
    let proxy = runtime_state::running_proxy();
    if args.json {
        let doc = StatusJson {
            build: &build,
            kernel: &checks,
            capture_possible: possible,
            record: record.as_ref(),
            proxy: proxy.as_ref(),
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print_text(&build, &checks, possible);
        print_record(record.as_ref());
        if let Some(p) = &proxy {
            print_proxy(p);
        }
    }
    Ok(if possible {
        exit::OK
    } else {
        exit::NO_CAPTURE_SUPPORT
    })
}

fn print_text(build: &BuildInfo, checks: &[Check], possible: bool) {
    let s = Style::stdout();
    println!("{}", s.bold(&format!("oisp-sensor {}", build.version)));
    println!();
    println!("{}", s.bold("This build"));
    for (name, what) in &build.capture_sources {
        println!("  capture  {:<7} {}", name, what);
    }
    for p in &build.protocols {
        println!("  decode   {p}");
    }
    println!(
        "  providers {} ({} models priced)",
        build.providers.join(", "),
        build.models_priced
    );
    println!();
    println!("{}", s.bold("This machine"));
    for c in checks {
        let mark = match c.state {
            State::Ok => s.green("✓"),
            State::Warn => s.yellow("!"),
            State::Missing => s.red("✗"),
        };
        let opt = if c.required { "" } else { " (optional)" };
        println!("  {mark} {}{opt}: {}", c.name, c.detail);
        if let Some(fix) = &c.fix {
            println!("      fix: {}", s.dim(fix));
        }
    }
    println!();
    if possible {
        println!(
            "{}",
            s.green("The kernel and privileges allow eBPF capture.")
        );
    } else {
        println!(
            "{}",
            s.red("eBPF capture cannot run here: fix the items marked ✗ (exit code 3).")
        );
    }
}

fn print_record(state: Option<&RecordState>) {
    let s = Style::stdout();
    println!();
    let Some(st) = state else {
        println!("{}", s.bold("Capture"));
        println!("  no `oisp-sensor record` is running");
        return;
    };
    println!(
        "{}",
        s.bold(&format!(
            "Capture: record pid {} since {} → {} (updated {})",
            st.pid, st.started, st.output, st.updated
        ))
    );
    print_counters_and_sinks(st);
    if !st.coverage.is_empty() {
        println!("  processes and their coverage:");
        for c in &st.coverage {
            let line = format!(
                "    pid {:<7} {:<40} {} AI calls ({})  via {}, located {}: {}",
                c.pid,
                c.exe,
                c.ai_calls,
                if c.providers.is_empty() {
                    "-"
                } else {
                    &c.providers
                },
                c.stack,
                c.located,
                c.coverage
            );
            println!(
                "{}",
                if c.coverage.starts_with("none") {
                    s.yellow(&line)
                } else {
                    line
                }
            );
        }
    }
    println!("  {} probes attached:", st.probes.len());
    for p in &st.probes {
        println!("    {:<10} {:<28} {}", p.probe, p.symbol, s.dim(&p.path));
    }
    if !st.unlocated.is_empty() {
        println!(
            "  TLS stacks not (fully) hooked — not located safely, or hooks the kernel refused:"
        );
        for u in &st.unlocated {
            println!("    {}", s.yellow(&format!("{}: {}", u.path, u.why)));
        }
    }
}

/// The counters (drops included), the configuration and each sink of a running command.
fn print_counters_and_sinks(st: &RecordState) {
    let s = Style::stdout();
    let c = &st.counters;
    println!(
        "  {} records → {} events ({} kept out by [filter]), {} AI calls, {} agent sessions, {} warnings",
        c.records, c.events, c.filtered, c.ai_calls, c.agent_sessions, c.warnings
    );
    let drops = format!(
        "  drops: {} TLS records lost, {} system records lost, {} bytes truncated, {} bytes in stream gaps",
        c.lost_tls_records, c.lost_system_records, c.truncated_bytes, c.gap_bytes
    );
    println!(
        "  not copied: {} client TLS sessions without AI traffic ignored, {} SSL calls skipped in the kernel",
        c.ignored_sessions, c.skipped_calls
    );
    let any_drop = c.lost_tls_records + c.lost_system_records + c.truncated_bytes + c.gap_bytes > 0;
    println!("{}", if any_drop { s.yellow(&drops) } else { drops });
    if !st.config.is_empty() {
        println!("  configuration: {}", st.config);
    }
    println!("  sinks:");
    for k in &st.sinks {
        let h = &k.health;
        let state = format!("{:?}", h.state).to_lowercase();
        let mut line = format!(
            "    {:<10} {:<9} {} delivered, {} queued (lag {:.1}s), {} dropped, {} failed attempts  {}",
            k.name,
            state,
            h.delivered,
            h.queued,
            h.lag_ms as f64 / 1000.0,
            h.dropped,
            h.failures,
            s.dim(&h.target)
        );
        if let Some(e) = &h.last_error {
            line.push_str(&format!("\n               last error: {e}"));
        }
        let unhealthy = h.state != oisp_sinks::SinkState::Ok || h.dropped > 0;
        println!("{}", if unhealthy { s.yellow(&line) } else { line });
    }
}

/// The running `proxy`: where it listens, its CA, counters, sinks.
fn print_proxy(st: &RecordState) {
    let s = Style::stdout();
    println!();
    println!(
        "{}",
        s.bold(&format!(
            "Proxy: proxy pid {} since {} → {} (updated {})",
            st.pid, st.started, st.output, st.updated
        ))
    );
    for p in &st.probes {
        println!("  {} (CA {})", p.symbol, p.path);
    }
    print_counters_and_sinks(st);
}
