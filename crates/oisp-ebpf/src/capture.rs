//! [`EbpfCapture`]: start, poll and finish, and where each kernel record goes. The capture owns
//! its parts — the loaded object ([`Kernel`]), the probes ([`Probes`]), TLS sessions
//! ([`Sessions`]), the process scope ([`Scope`]), fd paths ([`FilePaths`]), the container
//! resolver ([`Resolver`]) — and routes records between them; none of them knows the others.
//! Every record leaves through [`drain`](EbpfCapture::drain), which puts a `Container` record
//! before the first record naming a container's cgroup.

use crate::assemble::{self, Clock, FilePaths};
use crate::discovery::Discovery;
use crate::flows::Flows;
use crate::kernel::{Kernel, KernelCounters};
use crate::load;
use crate::options::{Attachment, CaptureError, CaptureOptions, CaptureStats, Unlocated};
use crate::probes::Probes;
use crate::scope::Scope;
use crate::sessions::{SessionId, Sessions};
use crate::snapshot;
use crate::tls::Origin;
use crate::wire::{self, Ev};
use oisp_capture::{ConnRole, DnsMessage, Lost, RawRecord};
use oisp_container::{CgroupPaths, Resolver, Roots};
use std::time::{Duration, Instant};

/// A running capture. Dropping it detaches every probe.
pub struct EbpfCapture {
    opts: CaptureOptions,
    kernel: Kernel,
    probes: Probes,
    sessions: Sessions,
    scope: Scope,
    files: FilePaths,
    /// The container behind each cgroup the reported records name, resolved once.
    containers: Resolver,
    /// Cgroup paths by the id exec records carry.
    cgroups: CgroupPaths,
    /// TLS sockets followed for their metadata after their ClientHello.
    flows: Flows,
    clock: Clock,
    stats: CaptureStats,
    /// The kernel's counters when last read (new losses become `Lost` records).
    counters: KernelCounters,
    last_counters: Instant,
    out: Vec<RawRecord>,
}

impl EbpfCapture {
    /// Loads the programs, attaches every probe and scans running processes for TLS stacks.
    pub fn start(opts: &CaptureOptions) -> Result<EbpfCapture, CaptureError> {
        load::preflight()?;
        let kernel = Kernel::load(opts)?;
        let mut probes = Probes::new(opts, kernel.session());
        probes.attach_tracepoints(kernel.object(), opts)?;
        if opts.ssl {
            Discovery {
                probes: &mut probes,
                obj: kernel.object(),
            }
            .at_start();
        }
        let stats = CaptureStats {
            attachments: probes.attachments().len(),
            session_uprobes: probes.session(),
            ..Default::default()
        };
        let clock = Clock::now();
        let mut scope = Scope::new(opts);
        let mut out = Vec::new();
        // Also with process records off: the scope needs their ancestry.
        scope.snapshot(
            snapshot::running_processes(&clock, std::process::id()),
            &mut out,
        );
        Ok(EbpfCapture {
            opts: opts.clone(),
            kernel,
            probes,
            sessions: Sessions::new(),
            scope,
            files: FilePaths::default(),
            containers: Resolver::new(Roots::host()),
            cgroups: CgroupPaths::host(),
            flows: Flows::default(),
            clock,
            stats,
            counters: KernelCounters::default(),
            last_counters: Instant::now(),
            out,
        })
    }

    /// Every probe attached so far.
    pub fn attachments(&self) -> &[Attachment] {
        self.probes.attachments()
    }

    /// Files holding a TLS stack where nothing could be located safely.
    pub fn unlocated(&self) -> &[Unlocated] {
        self.probes.unlocated()
    }

    pub fn stats(&self) -> CaptureStats {
        self.stats.clone()
    }

    /// Waits up to `timeout` for kernel records and hands the resulting records to `sink`.
    pub fn poll(
        &mut self,
        timeout: Duration,
        sink: &mut dyn FnMut(RawRecord),
    ) -> Result<(), CaptureError> {
        for raw in self.kernel.read(Some(timeout))? {
            if let Some(ev) = wire::parse(&raw) {
                self.handle(ev);
            }
            self.drain(sink);
        }
        self.flush_waiting(false);
        if self.last_counters.elapsed() >= Duration::from_millis(500) {
            self.check_counters();
        }
        self.drain(sink);
        Ok(())
    }

    /// Ends the capture: reports sessions still waiting for their socket and the final loss
    /// counters. Call once after the last [`poll`](Self::poll).
    pub fn finish(&mut self, sink: &mut dyn FnMut(RawRecord)) {
        for raw in self.kernel.read(None).unwrap_or_default() {
            if let Some(ev) = wire::parse(&raw) {
                self.handle(ev);
            }
        }
        self.flush_waiting(true);
        self.check_counters();
        self.drain(sink);
    }

    /// Stops the copying of a client connection's plaintext in the kernel, from its next data
    /// call on, until the session ends or its session object is given a new socket. For
    /// connections the decoder found to carry no AI traffic
    /// (`oisp_decode::Decoder::drain_ignorable`); what was captured before stays in the output,
    /// records already in the ring still arrive. Returns false when `conn_id` is not an open
    /// client connection of this capture (closed meanwhile, or never a client).
    pub fn ignore_connection(&mut self, conn_id: u64) -> bool {
        if let Some((pid, fd, sock)) = self.flows.ignore(conn_id) {
            // a socket followed for its metadata: the kernel stops at its next call
            self.kernel.unfollow(pid, fd, sock);
            self.stats.ignored_sessions += 1;
            return true;
        }
        let Some((pid, key)) = self.sessions.open_client(conn_id) else {
            return false;
        };
        if !self.kernel.mute(pid, key, wire::SKIP_IGNORED) {
            return false;
        }
        self.stats.ignored_sessions += 1;
        true
    }

    /// Hands the records out; the first record naming a container's cgroup is preceded by that
    /// container's `Container` record.
    fn drain(&mut self, sink: &mut dyn FnMut(RawRecord)) {
        for r in self.out.drain(..) {
            let first = cgroup_of(&r).and_then(|cg| self.containers.first_sight(cg, r.ts()));
            if let Some(c) = first {
                self.stats.records += 1;
                sink(RawRecord::Container(c));
            }
            self.stats.records += 1;
            sink(r);
        }
    }

    fn flush_waiting(&mut self, all: bool) {
        let EbpfCapture {
            sessions,
            scope,
            kernel,
            out,
            ..
        } = self;
        sessions.flush_waiting(all, out, &mut |s, role, out| {
            on_reported(scope, kernel, s, role, out)
        });
    }

    /// Routes one kernel record to the part it concerns; then sockets a hooked TLS stack now
    /// reads stop being followed for their metadata.
    fn handle(&mut self, ev: Ev<'_>) {
        self.route(ev);
        for (pid, fd) in self.sessions.take_read_sockets() {
            if let Some((pid, fd, sock)) = self.flows.read_by_stack(pid, fd) {
                self.kernel.unfollow(pid, fd, sock);
            }
        }
    }

    fn route(&mut self, ev: Ev<'_>) {
        let EbpfCapture {
            opts,
            kernel,
            probes,
            sessions,
            scope,
            files,
            cgroups,
            flows,
            clock,
            stats,
            out,
            ..
        } = self;
        let mut reported = |s: SessionId, role: ConnRole, out: &mut Vec<RawRecord>| {
            on_reported(scope, kernel, s, role, out)
        };
        match ev {
            Ev::TlsData {
                h,
                session,
                origin,
                fd,
                data,
                ..
            } if origin == wire::ORIGIN_HELLO => {
                let ts = clock.ts(h.ts_ns);
                let addrs = sessions.take_socket((h.pid, session));
                let conn_id = sessions.new_conn_id();
                // A TLS client: in scope, whether or not its TLS stack is hooked.
                scope.enter(h.pid, out);
                let mut reported_as = None;
                if let Some(rec) = assemble::client_hello(&h, ts, conn_id, addrs, data) {
                    if let RawRecord::ConnOpen(o) = &rec {
                        if let Some(sni) = &o.sni {
                            sessions.hello(h.pid, fd, sni.clone(), o.alpn.clone());
                        }
                    }
                    reported_as = Some(conn_id);
                    out.push(rec);
                }
                // Followed for its metadata from here on, if it was reported.
                if let Some((pid, fd, sock)) = flows.hello((h.pid, session), fd, reported_as) {
                    kernel.unfollow(pid, fd, sock);
                }
            }
            Ev::TlsData {
                h,
                session,
                origin,
                data,
                ..
            } if origin == wire::ORIGIN_DNS => {
                let ts = clock.ts(h.ts_ns);
                let server = sessions.take_socket((h.pid, session)).map(|a| a.1);
                let rec = DnsMessage {
                    ts,
                    pid: h.pid,
                    tid: h.tid,
                    server,
                    bytes: data.to_vec(),
                };
                if opts.network {
                    scope.dns(rec, out);
                }
            }
            Ev::Flow {
                h,
                session,
                len,
                egress,
                end,
                ..
            } => {
                let ts = clock.ts(h.ts_ns);
                if let Some(rec) = flows.activity((h.pid, session), ts, len, egress, end) {
                    out.push(rec);
                }
            }
            Ev::TlsData {
                h,
                session,
                seq,
                truncated,
                fd,
                egress,
                origin,
                data,
            } => {
                let ts = clock.ts(h.ts_ns);
                let source = Origin(origin).data_source();
                let s = (h.pid, session);
                let id = sessions.data_conn(s, h.tid, ts, fd, egress, source);
                let chunk = assemble::data_chunk(&h, ts, id, seq, egress, source, truncated, data);
                sessions.data(s, chunk, out, &mut reported);
            }
            Ev::TlsFd {
                h,
                session,
                fd,
                addrs,
            } => {
                let ts = clock.ts(h.ts_ns);
                sessions.socket(
                    (h.pid, session),
                    (h.tid, ts),
                    (fd, addrs),
                    out,
                    &mut reported,
                );
            }
            Ev::TlsFree { h, session } => {
                let ts = clock.ts(h.ts_ns);
                sessions.free((h.pid, session), ts, out, &mut reported);
            }
            Ev::TlsSni { h, session, name } => sessions.sni((h.pid, session), name),
            Ev::TlsAlpn { h, session, name } => sessions.alpn((h.pid, session), name),
            Ev::Exec { h, exec } => {
                let ts = clock.ts(h.ts_ns);
                let rec = assemble::process_exec(&h, ts, exec, cgroups);
                files.exec(h.pid, rec.cwd.as_deref());
                scope.exec(rec, out);
                if opts.ssl {
                    Discovery {
                        probes,
                        obj: kernel.object(),
                    }
                    .exe(h.pid);
                    stats.attachments = probes.attachments().len();
                }
            }
            Ev::Exit { h, exit_code } => {
                let ts = clock.ts(h.ts_ns);
                sessions.process_exit(h.pid, ts, out, &mut reported);
                flows.process_exit(h.pid, ts, out);
                files.exit(h.pid);
                scope.exit(assemble::process_exit(&h, ts, exit_code), out);
            }
            Ev::Fork { h, parent, child } => {
                files.fork(parent, child);
                scope.fork(clock.ts(h.ts_ns), parent, child, out);
            }
            Ev::File { h, file } => {
                let ts = clock.ts(h.ts_ns);
                let mut open_path = None;
                if h.kind == wire::EV_FILE_OPEN {
                    let full = files.resolve(h.pid, file.dirfd, &file.path);
                    if opts.ssl && file.result >= 0 {
                        Discovery {
                            probes,
                            obj: kernel.object(),
                        }
                        .library_opened(h.pid, &full);
                        stats.attachments = probes.attachments().len();
                    }
                    open_path = Some(full);
                }
                if !opts.file {
                    return;
                }
                if let Some(op) = files.file_op(&h, ts, file, open_path) {
                    if scope.contains(h.pid) {
                        out.push(RawRecord::File(op));
                    }
                }
            }
            Ev::Connect {
                h,
                result,
                fd,
                sock_type,
                addr,
                ..
            } => {
                let ts = clock.ts(h.ts_ns);
                if let Some(rec) = assemble::net_connect(&h, ts, result, fd, sock_type, &addr) {
                    scope.connect(rec, out);
                }
            }
        }
    }

    /// Reads the kernel's counters: new losses become `Lost` records, the rest goes to stats.
    fn check_counters(&mut self) {
        self.last_counters = Instant::now();
        let now = self.kernel.counters();
        let ts = self.clock.now_ts();
        for (new, old, origin) in [
            (now.lost_tls, self.counters.lost_tls, "tls_ring"),
            (now.lost_sys, self.counters.lost_sys, "sys_ring"),
        ] {
            if new > old {
                self.out.push(RawRecord::Lost(Lost {
                    ts,
                    origin: origin.to_string(),
                    count: new - old,
                }));
            }
        }
        self.counters = now;
        self.stats.lost_tls = now.lost_tls;
        self.stats.lost_sys = now.lost_sys;
        self.stats.truncated_bytes = now.truncated_bytes;
        self.stats.skipped_server_calls = now.skipped_server_calls;
        self.stats.skipped_ignored_calls = now.skipped_ignored_calls;
    }
}

/// The cgroup path a record names (the process's, at its exec).
fn cgroup_of(r: &RawRecord) -> Option<&str> {
    match r {
        RawRecord::ProcessExec(e) => e.cgroup.as_deref(),
        _ => None,
    }
}

/// A session is reported with `role`: a client's process enters scope (what was held back about
/// it comes first), a server session stops being copied in the kernel (the decoder drops a local
/// server's view anyway, and for a busy TLS server the copies are most of the capture's cost).
fn on_reported(
    scope: &mut Scope,
    kernel: &Kernel,
    (pid, key): SessionId,
    role: ConnRole,
    out: &mut Vec<RawRecord>,
) {
    match role {
        ConnRole::Client => scope.enter(pid, out),
        ConnRole::Server => {
            kernel.mute(pid, key, wire::SKIP_SERVER);
        }
        _ => {}
    }
}
