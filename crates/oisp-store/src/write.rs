//! Writing events: whole batches in one transaction, unique by `event_id`.

use crate::{searchable_text, Facts, Store, StoreError};
use oisp_sinks::Item;
use rusqlite::{params, TransactionBehavior};

impl Store {
    /// Inserts `items` in one transaction and returns how many were new. An item whose
    /// `event_id` is already stored is skipped (redelivery after a failure never doubles an
    /// event). Each new event's prompt/response text goes into the full-text index in the same
    /// transaction, so readers see an event and its text together or not at all.
    pub fn insert_batch(&mut self, items: &[Item]) -> Result<usize, StoreError> {
        self.insert_inner(items).map_err(|e| self.locate(e))
    }

    fn insert_inner(&mut self, items: &[Item]) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut inserted = 0;
        {
            let mut event = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (event_id, ts_ns, ts, event_type, pid, \
                 process_name, process_exe, provider, provider_name, model, request_id, \
                 conversation_id, tool_name, success, prompt_tokens, completion_tokens, \
                 cached_tokens, cost_usd, latency_ms, ttft_ms, duration_ms, trace_id, ppid, container, key_prefix, key_hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, \
                 ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
            )?;
            let mut body =
                tx.prepare_cached("INSERT INTO event_json (id, json) VALUES (?1, ?2)")?;
            let mut text =
                tx.prepare_cached("INSERT INTO events_text (rowid, body) VALUES (?1, ?2)")?;
            for item in items {
                let json = std::str::from_utf8(&item.json).map_err(|e| {
                    StoreError::Invalid(format!(
                        "event {} is not UTF-8 JSON ({e})",
                        item.event.event_id
                    ))
                })?;
                let f = Facts::of(&item.event);
                let n = event.execute(params![
                    item.event.event_id,
                    f.ts_ns,
                    f.ts,
                    f.event_type,
                    f.pid,
                    f.process_name,
                    f.process_exe,
                    f.provider,
                    f.provider_name,
                    f.model,
                    f.request_id,
                    f.conversation_id,
                    f.tool_name,
                    f.success,
                    f.prompt_tokens,
                    f.completion_tokens,
                    f.cached_tokens,
                    f.cost_usd,
                    f.latency_ms,
                    f.ttft_ms,
                    f.duration_ms,
                    f.trace_id,
                    f.ppid,
                    f.container,
                    f.key_prefix,
                    f.key_hash,
                ])?;
                if n == 0 {
                    continue;
                }
                inserted += 1;
                let id = tx.last_insert_rowid();
                body.execute(params![id, json])?;
                let words = searchable_text(&item.event);
                if !words.is_empty() {
                    text.execute(params![id, words])?;
                }
            }
        }
        tx.commit()?;
        Ok(inserted)
    }
}
