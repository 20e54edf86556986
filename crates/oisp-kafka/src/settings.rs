//! `[kafka]` checked and turned into the values the producer uses.

use crate::{KafkaCompression, KafkaConfig, KafkaKey, MessageFormat};
use oisp_sinks::parse_duration;
use rskafka::client::partition::Compression;
use std::time::Duration;

/// Default per-`deliver` timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Validated producer settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub brokers: Vec<String>,
    pub topic: String,
    pub compression: Compression,
    pub key: KafkaKey,
    pub format: MessageFormat,
    pub linger: Duration,
    pub timeout: Duration,
    pub partitions: i32,
}

impl Settings {
    /// Checks `config`; the error names the key and the bad value.
    pub fn from_config(config: &KafkaConfig) -> Result<Settings, String> {
        let brokers = parse_brokers(&config.brokers)?;
        check_topic(&config.topic)?;
        let linger = match &config.linger {
            Some(s) => parse_duration(s).map_err(|e| format!("kafka.linger: {e}"))?,
            None => Duration::ZERO,
        };
        let timeout = match &config.timeout {
            Some(s) => parse_duration(s).map_err(|e| format!("kafka.timeout: {e}"))?,
            None => DEFAULT_TIMEOUT,
        };
        if timeout.is_zero() {
            return Err("kafka.timeout: must be more than 0".into());
        }
        let partitions = match config.partitions {
            None => 1,
            Some(n) if (1..=10_000).contains(&n) => n as i32,
            Some(n) => return Err(format!("kafka.partitions: {n} is not in 1..=10000")),
        };
        Ok(Settings {
            brokers,
            topic: config.topic.clone(),
            compression: match config.compression {
                KafkaCompression::None => Compression::NoCompression,
                KafkaCompression::Gzip => Compression::Gzip,
                KafkaCompression::Snappy => Compression::Snappy,
                KafkaCompression::Lz4 => Compression::Lz4,
                KafkaCompression::Zstd => Compression::Zstd,
            },
            key: config.key,
            format: config.format,
            linger,
            timeout,
            partitions,
        })
    }
}

/// `host:port[,host:port…]`, each with a non-empty host and a port in 1..=65535.
fn parse_brokers(s: &str) -> Result<Vec<String>, String> {
    let brokers: Vec<String> = s
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .collect();
    if brokers.is_empty() {
        return Err("kafka.brokers: empty (expected host:port[,host:port…])".into());
    }
    for b in &brokers {
        let Some((host, port)) = b.rsplit_once(':') else {
            return Err(format!(
                "kafka.brokers: `{b}` has no port (expected host:port)"
            ));
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('/') {
            return Err(format!("kafka.brokers: `{b}` is not host:port"));
        }
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => return Err(format!("kafka.brokers: bad port in `{b}`")),
        }
    }
    Ok(brokers)
}

/// Kafka's topic name rule: 1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
fn check_topic(t: &str) -> Result<(), String> {
    let ok_chars = t
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if t.is_empty() || t.len() > 249 || !ok_chars || t == "." || t == ".." {
        return Err(format!(
            "kafka.topic: `{t}` is not a valid topic name (1-249 characters of a-z A-Z 0-9 . _ -)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(brokers: &str, topic: &str) -> KafkaConfig {
        KafkaConfig {
            brokers: brokers.into(),
            topic: topic.into(),
            ..Default::default()
        }
    }

    #[test]
    fn accepts_good_config() {
        let s = Settings::from_config(&cfg("a:9092, b:9093", "oisp-events")).unwrap();
        assert_eq!(s.brokers, vec!["a:9092", "b:9093"]);
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
        assert_eq!(s.partitions, 1);
        assert!(matches!(s.compression, Compression::Gzip));
    }

    #[test]
    fn names_bad_values() {
        let e = Settings::from_config(&cfg("", "t")).unwrap_err();
        assert!(e.contains("kafka.brokers"), "{e}");
        let e = Settings::from_config(&cfg("host", "t")).unwrap_err();
        assert!(e.contains("`host` has no port"), "{e}");
        let e = Settings::from_config(&cfg("h:0", "t")).unwrap_err();
        assert!(e.contains("bad port"), "{e}");
        let e = Settings::from_config(&cfg("h:1", "bad topic")).unwrap_err();
        assert!(e.contains("kafka.topic"), "{e}");
        let mut c = cfg("h:1", "t");
        c.timeout = Some("5x".into());
        let e = Settings::from_config(&c).unwrap_err();
        assert!(e.contains("kafka.timeout"), "{e}");
        c.timeout = Some("0s".into());
        assert!(Settings::from_config(&c).is_err());
        let mut c = cfg("h:1", "t");
        c.partitions = Some(0);
        assert!(Settings::from_config(&c)
            .unwrap_err()
            .contains("partitions"));
    }
}
