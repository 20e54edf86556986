//! Command-line interface definition (clap). Parsing only: behaviour lives in `cmd/`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit codes, documented in `--help` and the README.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// A runtime error (I/O failure, unreadable or invalid input).
    pub const ERROR: i32 = 1;
    /// Bad usage: unknown flag, missing argument, invalid value.
    pub const USAGE: i32 = 2;
    /// `status`: the kernel or privileges lack something eBPF capture needs.
    pub const NO_CAPTURE_SUPPORT: i32 = 3;
}

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  runtime error (I/O failure, unreadable or invalid input)
  2  bad usage (unknown flag, missing or invalid argument)
  3  status: this kernel or these privileges cannot run eBPF capture";

/// oisp-sensor captures AI interactions on this machine and turns them into OISP events.
#[derive(Debug, Parser)]
#[command(name = "oisp-sensor", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode the bundled sample captures (recorded from real SDK clients) into events.
    ///
    /// Runs the same decode pipeline as live capture over captures shipped inside the binary.
    /// Needs no root and no network. Events go to the default events file unless -o is given.
    Demo(DemoArgs),
    /// Show recorded events as a readable timeline.
    Show(ShowArgs),
    /// Browse recorded events in a terminal UI that follows new ones live: AI calls with their
    /// conversations, agent session traces, the process tree, running totals.
    Tui(TuiArgs),
    /// Summarise recorded events: totals, costs, providers, models, tools, processes.
    Analyze(AnalyzeArgs),
    /// Decode a raw capture file (made by `record --raw-out` or the test recorder) into events.
    Replay(ReplayArgs),
    /// Show what this build supports and what the running kernel offers for capture.
    Status(StatusArgs),
    /// Capture live with eBPF (as root) until Ctrl-C or SIGTERM: AI calls over TLS and the
    /// processes, files and connections around them.
    ///
    /// Prints one line to stderr once every probe is attached. Events go to the default events
    /// file unless -o is given.
    Record(RecordArgs),
    /// Check a configuration file (default: $OISP_CONFIG, else /etc/oisp-sensor/config.toml).
    Config(ConfigArgs),
    /// Serve the web UI over the event store until Ctrl-C: live timeline, AI call conversations,
    /// agent traces, process tree, analytics, inventory and sensor health.
    ///
    /// Reads the store only, so it can run beside a `record` that writes the same store: new
    /// events appear in the page as they are stored. Listens on 127.0.0.1:7777 by default; any
    /// other address requires a token (generated and printed, or $OISP_WEB_TOKEN / web.token).
    Web(WebArgs),
    /// Run an HTTP/HTTPS proxy (no root) that captures the AI traffic of clients pointed at it
    /// until Ctrl-C or SIGTERM.
    ///
    /// Listens on 127.0.0.1:8080. CONNECTs to AI providers (or every host with --intercept all)
    /// are intercepted with a CA generated on first use (`--ca-path` prints where; clients must
    /// trust it: `--print-env` prints the variables); other hosts are tunnelled untouched.
    /// What it sees goes through the same decoding, redaction and sinks as `record`.
    Proxy(ProxyArgs),
    /// Run a command with its AI traffic captured through an in-process proxy (no root), then
    /// print a summary of its AI calls, tokens, cost and tool calls.
    ///
    /// Starts the proxy on a free 127.0.0.1 port, runs CMD with HTTPS_PROXY, HTTP_PROXY and the
    /// CA variables of common runtimes set (see `proxy --print-env`), and exits with CMD's
    /// status. Events go to the store (and the other sinks) as with `record`.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct WebArgs {
    /// The event store to serve (default: the store `record` writes: store.path of the
    /// configuration file, else $OISP_STORE, else /var/lib/oisp-sensor/events.db as root,
    /// ~/.local/share/oisp-sensor/events.db otherwise).
    #[arg(short, long, value_name = "STORE")]
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub web: WebAddrArgs,
    /// Configuration file (default: $OISP_CONFIG, else /etc/oisp-sensor/config.toml if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Where the web UI listens, shared by `web` and `record`.
#[derive(Debug, Args, Clone, Default)]
pub struct WebAddrArgs {
    /// Listen on ADDR (default 127.0.0.1:7777). Any address but a loopback one requires a
    /// token. Key: web.listen.
    #[arg(long, value_name = "ADDR")]
    pub web_addr: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file: every error with its line number; exit 1 if any.
    Check {
        /// The file to check (default: $OISP_CONFIG, else /etc/oisp-sensor/config.toml).
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

/// Where events go, shared by `record`, `demo` and `replay`. Each flag overrides the matching key
/// of the configuration file.
#[derive(Debug, Args, Clone, Default)]
pub struct SinkArgs {
    /// Configuration file (default: $OISP_CONFIG, else /etc/oisp-sensor/config.toml if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Store events in this SQLite file (default: /var/lib/oisp-sensor/events.db as root,
    /// ~/.local/share/oisp-sensor/events.db otherwise, or $OISP_STORE). Key: store.path.
    #[arg(long, value_name = "PATH", conflicts_with = "no_store")]
    pub store: Option<PathBuf>,
    /// Do not write the embedded store. Key: store.enabled = false.
    #[arg(long)]
    pub no_store: bool,
    /// Export logs and traces over OTLP (default endpoint from $OTEL_EXPORTER_OTLP_ENDPOINT, else
    /// http://localhost:4317). Key: [otlp] endpoint.
    #[arg(long, value_name = "ENDPOINT", num_args = 0..=1, default_missing_value = "")]
    pub otlp: Option<String>,
    /// OTLP protocol: grpc or http/protobuf. Key: otlp.protocol.
    #[arg(long, value_name = "PROTOCOL")]
    pub otlp_protocol: Option<String>,
    /// Produce events to these Kafka brokers (host:port,…); needs --kafka-topic. Key: kafka.brokers.
    #[arg(long, value_name = "BROKERS", requires = "kafka_topic")]
    pub kafka: Option<String>,
    /// Kafka topic. Key: kafka.topic.
    #[arg(long, value_name = "TOPIC")]
    pub kafka_topic: Option<String>,
    /// POST batches of events to this URL (signed with $OISP_WEBHOOK_SECRET when set).
    /// Key: webhook.url (and webhook.secret).
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Stream events live over WebSocket at ws://ADDR/events (default 127.0.0.1:7879).
    /// Key: websocket.listen.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:7879")]
    pub websocket: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Also write events as JSON Lines here; `-` for standard output. Key: jsonl.path.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub redact: RedactArgs,
    #[command(flatten)]
    pub sinks: SinkArgs,
}

/// Redaction profile (`safe`: content kept, secrets and personal data masked; `full`: content as
/// captured, secrets masked; `minimal`: metadata only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RedactionArg {
    Safe,
    Full,
    Minimal,
}

/// How events are redacted before they are written, shared by every command that writes events.
#[derive(Debug, Args, Clone)]
pub struct RedactArgs {
    /// Redaction profile: `safe` (default) keeps content but masks secrets and personal data
    /// (emails, card numbers); `full` keeps content as captured with secrets masked; `minimal`
    /// keeps metadata only (content replaced by its length and hash).
    /// Key: redaction.mode.
    #[arg(long, value_enum, value_name = "MODE")]
    pub redaction: Option<RedactionArg>,
    /// Do not mask secrets (API keys, bearer tokens, JWTs, private keys). Only for debugging on a
    /// machine you trust: the events will contain credentials. Key: redaction.redact_secrets.
    #[arg(long)]
    pub no_redact_secrets: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The raw capture file to decode.
    #[arg(value_name = "RAWFILE")]
    pub input: PathBuf,
    /// Write events as JSON Lines here; `-` for standard output (the default unless the
    /// configuration file has a [jsonl] section). Key: jsonl.path.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub redact: RedactArgs,
    #[command(flatten)]
    pub sinks: SinkArgs,
}

/// Which events to read, shared by `show` and `analyze`.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Read this file instead of the store: JSON Lines, or an event store (SQLite, recognised by
    /// its header); `-` for JSON Lines on standard input. Default: the event store
    /// (`$OISP_STORE`, else /var/lib/oisp-sensor/events.db as root,
    /// ~/.local/share/oisp-sensor/events.db otherwise).
    #[arg(short, long, value_name = "FILE")]
    pub input: Option<PathBuf>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// Only events of this type, e.g. `ai.request`, or a prefix such as `ai` or `process`.
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Vec<String>,
    /// Only events of processes whose name or executable contains NAME.
    #[arg(long, value_name = "NAME")]
    pub process: Option<String>,
    /// Only AI events of this provider (e.g. openai, anthropic, google, ollama).
    #[arg(long, value_name = "P")]
    pub provider: Option<String>,
    /// Only AI events whose model id contains M (case-insensitive), e.g. `gpt-4o`, `claude`.
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// Only events whose prompt or response text (messages, replies, tool names, arguments and
    /// results) contains TEXT, case-insensitive. Searched literally: no pattern syntax.
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,
    /// Only events at or after this time (RFC 3339, or relative like `10m`, `2h`, `1d` ago).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events before this time (RFC 3339, or relative like `10m`).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

impl FilterArgs {
    /// The selection these flags describe; relative times count back from now. A bad time names
    /// its flag (`--since: …`).
    pub fn selection(&self) -> anyhow::Result<oisp_store::Selection> {
        let spec = oisp_store::SelectionSpec {
            types: self.event_type.clone(),
            process: self.process.clone(),
            provider: self.provider.clone(),
            model: self.model.clone(),
            grep: self.grep.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
        };
        oisp_store::Selection::new(&spec, oisp_store::now_ns()).map_err(|e| match e {
            oisp_store::SelectionError::Since(m) => anyhow::Error::msg(m).context("--since"),
            oisp_store::SelectionError::Until(m) => anyhow::Error::msg(m).context("--until"),
        })
    }
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Show at most N events (the most recent N).
    #[arg(short = 'n', long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print the matching events as JSON Lines instead of the timeline.
    #[arg(long)]
    pub json: bool,
    /// Keep reading and print new events as they arrive (in the store or appended to the file).
    #[arg(short, long)]
    pub follow: bool,
    /// List the agent sessions (one row each: agent, root process, duration, AI calls, tool
    /// calls, commands, files written, tokens, cost, task) instead of the timeline.
    #[arg(long, conflicts_with_all = ["trace", "follow", "json"])]
    pub sessions: bool,
    /// Show one agent session as a tree: its AI calls, the tool calls each made, the commands,
    /// file changes and connections linked to each tool call, the results. ID: a session id, a
    /// trace id or a unique prefix of either; without ID, the most recent session. With
    /// --json: the session's events as JSON Lines.
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "", conflicts_with = "follow")]
    pub trace: Option<String>,
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// The event store to read (default: `$OISP_STORE`, else /var/lib/oisp-sensor/events.db as
    /// root, ~/.local/share/oisp-sensor/events.db otherwise). JSON Lines files are for `show`.
    #[arg(short, long, value_name = "STORE")]
    pub input: Option<PathBuf>,
    /// The selection shown at start (the `/` key then filters its text).
    #[command(flatten)]
    pub filter: FilterArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Report {
    Summary,
    Costs,
    Providers,
    Models,
    Tools,
    Processes,
    Sessions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Which report to produce.
    #[arg(short, long, value_enum, default_value = "summary")]
    pub report: Report,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the checklist as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Also write events as JSON Lines here; `-` for standard output. Key: jsonl.path.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write every captured record to this raw capture file (for `replay` and bug reports).
    /// Key: record.raw_out.
    #[arg(long, value_name = "FILE")]
    pub raw_out: Option<PathBuf>,
    /// Only processes with this name (kernel comm, first 15 characters; filtered in the kernel).
    #[arg(short = 'p', long = "process", value_name = "NAME")]
    pub process: Option<String>,
    /// Only this process id (filtered in the kernel).
    #[arg(long, value_name = "N")]
    pub pid: Option<u32>,
    /// Show the terminal UI (as `oisp-sensor tui` over the store being written) while
    /// recording; its `q` stops the recording as Ctrl-C does. Record's messages go to a log
    /// file named on screen. Needs the store (not with --no-store).
    #[arg(long)]
    pub tui: bool,
    /// Do not capture TLS plaintext (uprobes on TLS libraries and executables).
    #[arg(long)]
    pub no_ssl: bool,
    /// Do not report process exec/exit/fork events.
    #[arg(long)]
    pub no_process: bool,
    /// Do not capture file operations.
    #[arg(long)]
    pub no_file: bool,
    /// Do not capture connect(2) calls.
    #[arg(long)]
    pub no_network: bool,
    /// Do not read plaintext HTTP on TCP sockets (local model servers such as Ollama, APIs
    /// reached over http://).
    #[arg(long)]
    pub no_plaintext: bool,
    /// Report process, file and network activity of every process, not only of processes that
    /// talked TLS as clients, their ancestors and their descendants.
    #[arg(long)]
    pub all_processes: bool,
    /// Serve the web UI while recording (http://127.0.0.1:7777 unless --web-addr). Needs the
    /// store. Key: web.enabled.
    #[arg(long)]
    pub web: bool,
    #[command(flatten)]
    pub web_addr: WebAddrArgs,
    #[command(flatten)]
    pub redact: RedactArgs,
    #[command(flatten)]
    pub sinks: SinkArgs,
}

/// How the proxy intercepts, shared by `proxy` and `run`. Each flag overrides a `[proxy]` key.
#[derive(Debug, Args, Clone, Default)]
pub struct InterceptArgs {
    /// Which CONNECTs are intercepted: `ai` (the OISP bundle's provider domains plus --domain
    /// and proxy.domains) or `all`; the rest is tunnelled without decryption. Key:
    /// proxy.intercept.
    #[arg(long, value_name = "ai|all")]
    pub intercept: Option<String>,
    /// Also intercept this host in `ai` mode (exact name or `*.example.com`); repeatable. Key:
    /// proxy.domains.
    #[arg(long = "domain", value_name = "HOST")]
    pub domains: Vec<String>,
    /// Also trust this CA certificate (PEM) for upstream servers, beside the system roots
    /// (upstream certificates are always verified); repeatable. Key: proxy.upstream_ca.
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Vec<PathBuf>,
    /// Where the proxy's CA lives (created on first use; default
    /// ~/.local/share/oisp-sensor/ca, /var/lib/oisp-sensor/ca as root). Key: proxy.ca_dir.
    #[arg(long, value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Listen on ADDR (default 127.0.0.1:8080). Key: proxy.listen.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Print the path of the CA certificate clients must trust (creating the CA if needed) and
    /// exit.
    #[arg(long, conflicts_with = "print_env")]
    pub ca_path: bool,
    /// Print `export` lines that point a shell's clients at this proxy and its CA, and exit.
    #[arg(long)]
    pub print_env: bool,
    #[command(flatten)]
    pub intercept: InterceptArgs,
    /// Also write events as JSON Lines here; `-` for standard output. Key: jsonl.path.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write every captured record to this raw capture file (for `replay`).
    #[arg(long, value_name = "FILE")]
    pub raw_out: Option<PathBuf>,
    #[command(flatten)]
    pub redact: RedactArgs,
    #[command(flatten)]
    pub sinks: SinkArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub intercept: InterceptArgs,
    /// Also write events as JSON Lines here; `-` for standard output. Key: jsonl.path.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write every captured record to this raw capture file (for `replay`).
    #[arg(long, value_name = "FILE")]
    pub raw_out: Option<PathBuf>,
    /// Do not print the summary when CMD ends.
    #[arg(long)]
    pub no_summary: bool,
    #[command(flatten)]
    pub redact: RedactArgs,
    #[command(flatten)]
    pub sinks: SinkArgs,
    /// The command to run and its arguments (after `--`).
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}
