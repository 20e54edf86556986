//! Validation beyond what TOML typing catches, reported with line numbers.

use super::Config;
use oisp_sinks::parse_duration;

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// 1-based line of the offending key (or of its section), when found in the text.
    pub line: Option<usize>,
    /// `section.key`, e.g. `otlp.timeout` or `redaction.rules[1].pattern`.
    pub key: String,
    pub message: String,
}

impl ConfigIssue {
    /// `FILE:LINE: key: message`.
    pub fn render(&self, file: &str) -> String {
        match self.line {
            Some(l) => format!("{file}:{l}: {}: {}", self.key, self.message),
            None => format!("{file}: {}: {}", self.key, self.message),
        }
    }
}

struct Checker<'a> {
    text: &'a str,
    issues: Vec<ConfigIssue>,
}

impl Checker<'_> {
    /// Records a problem with `key` of `section` (`index`-th `[[section]]` for arrays).
    fn issue(&mut self, section: &str, index: Option<usize>, key: &str, message: String) {
        let line = line_of(self.text, section, index, key);
        let key = match index {
            Some(i) => format!("{section}[{i}].{key}"),
            None => format!("{section}.{key}"),
        };
        self.issues.push(ConfigIssue { line, key, message });
    }

    fn duration(&mut self, section: &str, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            if let Err(e) = parse_duration(v) {
                self.issue(section, None, key, e);
            }
        }
    }

    fn url(&mut self, section: &str, key: &str, value: &str) {
        let ok = (value.starts_with("http://") || value.starts_with("https://"))
            && value
                .split("://")
                .nth(1)
                .is_some_and(|rest| !rest.is_empty());
        if !ok {
            self.issue(
                section,
                None,
                key,
                format!("`{value}` is not an http:// or https:// URL"),
            );
        }
    }
}

/// Every problem found in `cfg` (parsed from `text`), in file order of sections.
pub fn validate(cfg: &Config, text: &str) -> Vec<ConfigIssue> {
    let mut c = Checker {
        text,
        issues: Vec::new(),
    };
    if let Some(m) = cfg.redaction.mode.as_deref() {
        if !matches!(m, "safe" | "full" | "minimal") {
            c.issue(
                "redaction",
                None,
                "mode",
                format!("`{m}` is not one of safe, full, minimal"),
            );
        }
    }
    for (i, r) in cfg.redaction.rules.iter().enumerate() {
        if let Err(e) = oisp_redact::CustomRule::new(&r.name, &r.pattern, None) {
            let key = if r.name.trim().is_empty() {
                "name"
            } else {
                "pattern"
            };
            c.issue("redaction.rules", Some(i), key, e);
        }
    }
    if let Some(name) = &cfg.record.process_name {
        if name.is_empty() || name.len() > 15 {
            c.issue(
                "record",
                None,
                "process_name",
                "must be 1 to 15 characters (the kernel's comm)".into(),
            );
        }
    }
    c.duration("store", "retention", cfg.store.retention.as_deref());
    if cfg.store.max_size_mb == Some(0) {
        c.issue("store", None, "max_size_mb", "must be at least 1".into());
    }
    if let Some(j) = &cfg.jsonl {
        if j.path.as_os_str().is_empty() {
            c.issue(
                "jsonl",
                None,
                "path",
                "must not be empty (`-` is stdout)".into(),
            );
        }
        c.duration("jsonl", "rotate_interval", j.rotate_interval.as_deref());
    }
    if let Some(o) = &cfg.otlp {
        if let Some(e) = &o.endpoint {
            c.url("otlp", "endpoint", e);
        }
        c.duration("otlp", "timeout", o.timeout.as_deref());
    }
    if let Some(k) = &cfg.kafka {
        let brokers: Vec<&str> = k.brokers.split(',').map(str::trim).collect();
        let bad = brokers.iter().find(|b| {
            b.rsplit_once(':')
                .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
        });
        if k.brokers.trim().is_empty() {
            c.issue(
                "kafka",
                None,
                "brokers",
                "missing (host:port[,host:port…])".into(),
            );
        } else if let Some(b) = bad {
            c.issue("kafka", None, "brokers", format!("`{b}` is not host:port"));
        }
        if k.topic.trim().is_empty() {
            c.issue("kafka", None, "topic", "missing".into());
        }
        c.duration("kafka", "linger", k.linger.as_deref());
        c.duration("kafka", "timeout", k.timeout.as_deref());
    }
    if let Some(w) = &cfg.webhook {
        c.url("webhook", "url", &w.url);
        if w.batch_size == Some(0) {
            c.issue("webhook", None, "batch_size", "must be at least 1".into());
        }
        c.duration("webhook", "timeout", w.timeout.as_deref());
    }
    if let Some(ws) = &cfg.websocket {
        if ws.listen.parse::<std::net::SocketAddr>().is_err() {
            c.issue(
                "websocket",
                None,
                "listen",
                format!("`{}` is not an address:port", ws.listen),
            );
        }
    }
    if let Some(l) = &cfg.web.listen {
        if l.parse::<std::net::SocketAddr>().is_err() {
            c.issue(
                "web",
                None,
                "listen",
                format!("`{l}` is not an address:port"),
            );
        }
    }
    if let Some(l) = &cfg.proxy.listen {
        if l.parse::<std::net::SocketAddr>().is_err() {
            c.issue(
                "proxy",
                None,
                "listen",
                format!("`{l}` is not an address:port"),
            );
        }
    }
    if let Some(m) = &cfg.proxy.intercept {
        if let Err(e) = m.parse::<oisp_proxy::InterceptMode>() {
            c.issue("proxy", None, "intercept", e);
        }
    }
    if cfg.web.token.as_deref().is_some_and(|t| t.len() < 16) {
        c.issue(
            "web",
            None,
            "token",
            "must be at least 16 characters".into(),
        );
    }
    let q = &cfg.queue;
    for (key, v) in [
        ("retry_initial", &q.retry_initial),
        ("retry_max", &q.retry_max),
    ] {
        c.duration("queue", key, Some(v));
    }
    if q.max_events == 0 {
        c.issue("queue", None, "max_events", "must be at least 1".into());
    }
    if q.max_size_mb == 0 {
        c.issue("queue", None, "max_size_mb", "must be at least 1".into());
    }
    c.issues
}

/// The line of `key = …` inside `[section]` (or the `index`-th `[[section]]`), else the
/// section's header line, else `None`. Good for ordinary files (one key per line).
fn line_of(text: &str, section: &str, index: Option<usize>, key: &str) -> Option<usize> {
    let header = match index {
        Some(_) => format!("[[{section}]]"),
        None => format!("[{section}]"),
    };
    let mut seen = 0usize;
    let mut in_section = false;
    let mut header_line = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            if in_section {
                break;
            }
            let h = line.split('#').next().unwrap_or("").trim().replace(' ', "");
            if h == header {
                if index.is_none_or(|i| i == seen) {
                    in_section = true;
                    header_line = Some(n + 1);
                }
                seen += 1;
            }
            continue;
        }
        if in_section {
            if let Some((k, _)) = line.split_once('=') {
                if k.trim().trim_matches('"') == key {
                    return Some(n + 1);
                }
            }
        }
    }
    header_line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(text: &str) -> Vec<String> {
        let cfg: Config = toml::from_str(text).unwrap();
        validate(&cfg, text)
            .iter()
            .map(|i| i.render("c.toml"))
            .collect()
    }

    #[test]
    fn semantic_errors_point_at_their_line() {
        let text = "\
[redaction]
mode = \"loose\"

[[redaction.rules]]
name = \"ok\"
pattern = \"EMP-[0-9]+\"

[[redaction.rules]]
name = \"bad\"
pattern = \"(\"

[otlp]
endpoint = \"localhost:4317\"
timeout = \"5 weeks\"

[kafka]
brokers = \"k1:9092,k2\"
topic = \"oisp\"
";
        let got = issues(text);
        assert_eq!(got.len(), 5, "{got:#?}");
        assert!(got[0].starts_with("c.toml:2: redaction.mode: `loose`"));
        assert!(got[1].starts_with("c.toml:10: redaction.rules[1].pattern:"));
        assert!(got[2].starts_with("c.toml:13: otlp.endpoint:"));
        assert!(got[3].starts_with("c.toml:14: otlp.timeout:"));
        assert!(got[4].starts_with("c.toml:17: kafka.brokers: `k2`"));
    }

    #[test]
    fn defaults_are_valid() {
        assert!(issues("").is_empty());
    }
}
