//! Message keys and the partition a key goes to.
//!
//! - `key = "host"`: the event's `host.hostname`, else `source.sensor_host`, else this machine's
//!   host name. All events of one host land in one partition, in capture order.
//! - `key = "session"`: the AI conversation or agent session the event belongs to
//!   (`data.conversation_id`, `data.session_id`, `data.agent.session_id`, `actor.session_id`),
//!   else `HOST:PID` of the process (`HOST` alone when the event has no process).
//!
//! The partition is `(murmur2(key) & 0x7fffffff) % partitions`, the Java client's default for
//! keyed records (librdkafka's `murmur2_random`), so consumers and other producers agree on where
//! a key lives.

use crate::KafkaKey;
use oisp_event::Event;

/// Derives message keys from events.
#[derive(Debug, Clone)]
pub struct Keyer {
    mode: KafkaKey,
    local_host: String,
}

impl Keyer {
    /// `local_host` is used when an event does not name its host.
    pub fn new(mode: KafkaKey, local_host: String) -> Self {
        Keyer { mode, local_host }
    }

    /// The key of `event` (never empty).
    pub fn key(&self, event: &Event) -> String {
        let host = self.host_of(event);
        match self.mode {
            KafkaKey::Host => host.to_owned(),
            KafkaKey::Session => match session_of(event) {
                Some(session) => session,
                None => match event.process.as_ref().and_then(|p| p.pid) {
                    Some(pid) => format!("{host}:{pid}"),
                    None => host.to_owned(),
                },
            },
        }
    }

    fn host_of<'a>(&'a self, event: &'a Event) -> &'a str {
        event
            .host
            .as_ref()
            .and_then(|h| h.hostname.as_deref())
            .filter(|h| !h.is_empty())
            .or(event
                .source
                .sensor_host
                .as_deref()
                .filter(|h| !h.is_empty()))
            .unwrap_or(&self.local_host)
    }
}

/// The conversation or session id carried by the event, if any.
fn session_of(event: &Event) -> Option<String> {
    let data = event.data.to_value();
    let from_data = ["conversation_id", "session_id"]
        .iter()
        .find_map(|k| data.get(k).and_then(|v| v.as_str()))
        .or_else(|| {
            data.get("agent")
                .and_then(|a| a.get("session_id"))
                .and_then(|v| v.as_str())
        })
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    from_data.or_else(|| {
        event
            .actor
            .as_ref()
            .and_then(|a| a.session_id.clone())
            .filter(|s| !s.is_empty())
    })
}

/// Kafka's murmur2 hash (32-bit MurmurHash2, seed `0x9747b28c`), as used by the Java client's
/// default partitioner and librdkafka's `murmur2_random`.
pub fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h: u32 = SEED ^ (data.len() as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// The partition (index into the topic's sorted partition ids) for `key` among `count`.
/// `count` must be at least 1.
pub fn partition_for(key: &[u8], count: usize) -> usize {
    ((murmur2(key) & 0x7fff_ffff) as usize) % count.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafka_reference_values() {
        // Values from Apache Kafka's own partitioner tests (signed 32-bit as Java prints them).
        let cases: &[(&str, i32)] = &[
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            ("abc", 479_470_107),
        ];
        for &(s, want) in cases {
            assert_eq!(murmur2(s.as_bytes()) as i32, want, "{s}");
        }
    }

    #[test]
    fn partition_is_stable_and_in_range() {
        for n in 1..8 {
            let p = partition_for(b"host-a", n);
            assert!(p < n);
            assert_eq!(p, partition_for(b"host-a", n));
        }
    }
}
