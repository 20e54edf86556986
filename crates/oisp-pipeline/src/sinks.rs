//! Builds the set of sinks a configuration describes.
//!
//! Local sinks (store, JSONL, WebSocket) are written on the pipeline thread; network sinks (OTLP,
//! Kafka, webhook) each get a disk-backed queue at `<queue dir>/<sink>.db` and a worker.

use anyhow::{anyhow, Context, Result};
use oisp_kafka::KafkaConfig;
use oisp_otlp::OtlpConfig;
use oisp_sinks::jsonl::JsonlSink;
use oisp_sinks::{
    parse_duration, DiskQueue, JsonlConfig, QueueConfig, QueueLimits, RetryPolicy, Sink,
    SinkHealth, SinkSet,
};
use oisp_store::StoreConfig;
use oisp_webhook::WebhookConfig;
use oisp_websocket::WebSocketConfig;
use std::path::PathBuf;

/// The sink sections of `config.toml` (each section's type lives beside its sink). `None`: the
/// sink is off; the store is on unless `store.enabled` is false.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SinksConfig {
    pub store: StoreConfig,
    pub jsonl: Option<JsonlConfig>,
    pub otlp: Option<OtlpConfig>,
    pub kafka: Option<KafkaConfig>,
    pub webhook: Option<WebhookConfig>,
    pub websocket: Option<WebSocketConfig>,
    pub queue: QueueConfig,
}

/// Where network sinks queue what they have not delivered: `[queue] dir`, else `queue/` beside
/// the default store.
pub fn queue_dir(queue: &QueueConfig) -> PathBuf {
    if let Some(d) = &queue.dir {
        return d.clone();
    }
    let store = oisp_store::default_path();
    store
        .parent()
        .map(|p| p.join("queue"))
        .unwrap_or_else(|| PathBuf::from("queue"))
}

/// Opens every configured sink. An error names the sink and the problem (`otlp: …`).
pub fn build_sinks(cfg: &SinksConfig) -> Result<SinkSet> {
    let mut set = SinkSet::new();
    if cfg.store.enabled {
        let sink = oisp_store::StoreSink::new(&cfg.store).map_err(|e| anyhow!("store: {e}"))?;
        set.add_threaded("store", Box::new(sink), None);
    }
    if let Some(j) = &cfg.jsonl {
        let sink = JsonlSink::new(j).map_err(|e| anyhow!("jsonl: {e}"))?;
        set.add_local("jsonl", Box::new(sink), None);
    }
    if let Some(ws) = &cfg.websocket {
        let sink = oisp_websocket::WebSocketSink::new(ws).map_err(|e| anyhow!("websocket: {e}"))?;
        set.add_local("websocket", Box::new(sink), ws.filter.as_ref());
    }
    let q = &cfg.queue;
    let limits = QueueLimits {
        max_events: q.max_events,
        max_bytes: q.max_size_mb.saturating_mul(1024 * 1024),
    };
    let retry = RetryPolicy {
        initial: parse_duration(&q.retry_initial)
            .map_err(|e| anyhow!("queue.retry_initial: {e}"))?,
        max: parse_duration(&q.retry_max).map_err(|e| anyhow!("queue.retry_max: {e}"))?,
    };
    let dir = queue_dir(q);
    let mut queued = |name: &str, sink: Box<dyn Sink>, filter| -> Result<()> {
        let path = dir.join(format!("{name}.db"));
        let queue = DiskQueue::open(&path, limits).with_context(|| format!("{name}: queue"))?;
        set.add_queued(name, sink, queue, retry, filter);
        Ok(())
    };
    if let Some(o) = &cfg.otlp {
        let sink = oisp_otlp::OtlpSink::new(o).map_err(|e| anyhow!("otlp: {e}"))?;
        queued("otlp", Box::new(sink), o.filter.as_ref())?;
    }
    if let Some(k) = &cfg.kafka {
        let sink = oisp_kafka::KafkaSink::new(k).map_err(|e| anyhow!("kafka: {e}"))?;
        queued("kafka", Box::new(sink), k.filter.as_ref())?;
    }
    if let Some(w) = &cfg.webhook {
        let sink = oisp_webhook::WebhookSink::new(w).map_err(|e| anyhow!("webhook: {e}"))?;
        queued("webhook", Box::new(sink), w.filter.as_ref())?;
    }
    Ok(set)
}

/// One line per sink for the end-of-run summary: `otlp → http://…: 120 delivered, 0 queued`.
pub fn summary(health: &[(String, SinkHealth)]) -> Vec<String> {
    health
        .iter()
        .map(|(name, h)| {
            let mut s = format!("{name} → {}: {} delivered", h.target, h.delivered);
            if h.queued > 0 {
                s.push_str(&format!(
                    ", {} still queued (delivered when a sensor next runs with this sink)",
                    h.queued
                ));
            }
            if h.dropped > 0 {
                s.push_str(&format!(", {} dropped", h.dropped));
            }
            if let Some(e) = &h.last_error {
                s.push_str(&format!(", last error: {e}"));
            }
            s
        })
        .collect()
}
