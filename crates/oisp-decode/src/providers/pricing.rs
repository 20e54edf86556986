//! Cost in USD from the bundle's per-model prices.
//!
//! Formula (prices are the bundle's USD per 1,000 tokens; token counts are the normalised
//! [`Usage`] ones, where prompt tokens include cached tokens and completion tokens include
//! reasoning tokens):
//!
//! ```text
//! uncached   = max(prompt - cached - cache_creation, 0)
//! input_usd  = (uncached       * input_cost_per_1k
//!             + cached         * (cache_read_cost_per_1k  or input_cost_per_1k)
//!             + cache_creation * (cache_write_cost_per_1k or input_cost_per_1k)) / 1000
//! output_usd = ((completion - reasoning) * output_cost_per_1k
//!             + reasoning * (reasoning_cost_per_1k or output_cost_per_1k)) / 1000
//! total_usd  = input_usd + output_usd
//! ```
//!
//! Missing token counts count as 0, but at least one of prompt/completion must be known. When a
//! cache price is missing and cached tokens are present the input price is used and
//! `Cost::cache_priced_at_input_rate` says so. Unknown models give `None`.
//!
//! Model lookup (bundle keys are `"{provider}/{id}"`, compared case-insensitively), first hit wins:
//! 1. for each of the provider's price keys in order (`azure_openai` then `openai`), the model
//!    as given, then the normalised forms of step 3;
//! 2. the model itself as a key when it carries a vendor prefix (`openai/gpt-4o`), then the model
//!    without that prefix under the provider's keys;
//! 3. the same after removing snapshot suffixes (`-2024-08-06`, `-20241022`, `@20241022`,
//!    `-0613`, `-001`, `-latest`) and a `models/` prefix;
//! 4. for unidentified providers only, the vendor inferred from the model name (`gpt-`/`o1`..
//!    → openai, `claude-` → anthropic, `gemini-` → google, ...), reported as
//!    [`PriceMatch::InferredVendor`].

use super::call::Usage;
use super::registry::{bundle, ModelEntry, ProviderId};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceMatch {
    /// `provider/model` exists in the bundle as given.
    Exact,
    /// Found after prefix/snapshot-suffix normalisation.
    Normalized,
    /// Provider unknown; vendor inferred from the model name.
    InferredVendor,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cost {
    pub input_usd: f64,
    pub output_usd: f64,
    pub total_usd: f64,
    /// The bundle key whose prices were used, e.g. "openai/gpt-4o".
    pub model_key: String,
    pub matched: PriceMatch,
    pub cache_priced_at_input_rate: bool,
}

fn index() -> &'static HashMap<String, &'static ModelEntry> {
    static IDX: OnceLock<HashMap<String, &'static ModelEntry>> = OnceLock::new();
    IDX.get_or_init(|| {
        bundle()
            .models
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect()
    })
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Removes one snapshot suffix, if any.
fn strip_snapshot(m: &str) -> Option<&str> {
    if let Some((base, tail)) = m.rsplit_once('@') {
        return Some(base).filter(|_| !tail.is_empty());
    }
    if let Some(base) = m.strip_suffix("-latest") {
        return Some(base);
    }
    // -YYYY-MM-DD
    // Checked on bytes: `m.len() - 11` need not be a char boundary (non-ASCII model names), but
    // when the tail matches it starts with the ASCII '-', so slicing there is then safe.
    if m.len() > 11 {
        let cut = m.len() - 11;
        let t = &m.as_bytes()[cut..];
        let digits = |r: std::ops::Range<usize>| t[r].iter().all(u8::is_ascii_digit);
        if t[0] == b'-'
            && t[5] == b'-'
            && t[8] == b'-'
            && digits(1..5)
            && digits(6..8)
            && digits(9..11)
        {
            return Some(&m[..cut]);
        }
    }
    // -YYYYMMDD, -MMDD, -NNN (e.g. gemini -001)
    let (base, tail) = m.rsplit_once('-')?;
    if all_digits(tail) && matches!(tail.len(), 3 | 4 | 8) && !base.is_empty() {
        return Some(base);
    }
    None
}

fn inferred_vendor(model: &str) -> Option<&'static str> {
    let m = model.rsplit('/').next().unwrap_or(model);
    let starts = |p: &str| m.starts_with(p);
    if starts("gpt-")
        || starts("o1")
        || starts("o3")
        || starts("o4")
        || starts("chatgpt-")
        || starts("text-embedding-")
        || starts("codex-")
    {
        Some("openai")
    } else if starts("claude-") {
        Some("anthropic")
    } else if starts("gemini-") {
        Some("google")
    } else if starts("grok-") {
        Some("xai")
    } else if starts("deepseek-") {
        Some("deepseek")
    } else if starts("mistral-")
        || starts("codestral")
        || starts("magistral")
        || starts("ministral")
    {
        Some("mistral")
    } else {
        None
    }
}

/// Finds the bundle entry for `model` served by `provider`.
pub fn find_model(
    provider: ProviderId,
    model: &str,
) -> Option<(&'static str, &'static ModelEntry, PriceMatch)> {
    let idx = index();
    let lower = model.trim().to_ascii_lowercase();
    if lower.is_empty() || lower.len() > 256 {
        return None;
    }
    let get = |key: &str| -> Option<(&'static str, &'static ModelEntry)> {
        let e = *idx.get(key)?;
        // Return the bundle's own spelling of the key.
        let k = bundle()
            .models
            .get_key_value(&format!("{}/{}", e.provider, e.id))
            .map(|(k, _)| k.as_str())?;
        Some((k, e))
    };
    let keys = provider.price_keys();
    // Candidates after normalisation, most specific first.
    let mut cands: Vec<String> = vec![lower.clone()];
    let mut cur = lower.strip_prefix("models/").unwrap_or(&lower).to_string();
    for _ in 0..4 {
        if !cands.contains(&cur) {
            cands.push(cur.clone());
        }
        match strip_snapshot(&cur) {
            Some(b) => cur = b.to_string(),
            None => break,
        }
    }
    let kind = |c: &str| {
        if c == lower {
            PriceMatch::Exact
        } else {
            PriceMatch::Normalized
        }
    };
    // The provider's own price list first (every candidate), then its fallbacks.
    for pk in keys {
        for c in &cands {
            if let Some((k, e)) = get(&format!("{pk}/{c}")) {
                return Some((k, e, kind(c)));
            }
        }
    }
    for c in &cands {
        if let Some((vendor, rest)) = c.split_once('/') {
            if ProviderId::from_key(vendor).is_some() {
                if let Some((k, e)) = get(c) {
                    return Some((k, e, PriceMatch::Normalized));
                }
            }
            for pk in keys {
                if let Some((k, e)) = get(&format!("{pk}/{rest}")) {
                    return Some((k, e, PriceMatch::Normalized));
                }
            }
        }
    }
    if provider == ProviderId::Unknown {
        let vendor = inferred_vendor(&lower)?;
        for c in &cands {
            let base = c.rsplit('/').next().unwrap_or(c);
            if let Some((k, e)) = get(&format!("{vendor}/{base}")) {
                return Some((k, e, PriceMatch::InferredVendor));
            }
        }
    }
    None
}

/// Cost of a call; see the module documentation for the formula.
pub fn cost_usd(provider: ProviderId, model: &str, usage: &Usage) -> Option<Cost> {
    if usage.prompt_tokens.is_none() && usage.completion_tokens.is_none() {
        return None;
    }
    let (key, e, matched) = find_model(provider, model)?;
    let in_rate = e.input_cost_per_1k?;
    let out_rate = e.output_cost_per_1k?;
    let f = |n: Option<u64>| n.unwrap_or(0) as f64;
    let prompt = usage.prompt_tokens.unwrap_or(0);
    let cached = usage.cached_tokens.unwrap_or(0);
    let created = usage.cache_creation_tokens.unwrap_or(0);
    let uncached = prompt.saturating_sub(cached).saturating_sub(created);
    let mut fallback = false;
    let read_rate = match e.cache_read_cost_per_1k {
        Some(r) => r,
        None => {
            fallback |= cached > 0;
            in_rate
        }
    };
    let write_rate = match e.cache_write_cost_per_1k {
        Some(r) => r,
        None => {
            fallback |= created > 0;
            in_rate
        }
    };
    let input_usd =
        (uncached as f64 * in_rate + cached as f64 * read_rate + created as f64 * write_rate)
            / 1000.0;
    let completion = usage.completion_tokens.unwrap_or(0);
    let output_usd = match (e.reasoning_cost_per_1k, usage.reasoning_tokens) {
        (Some(rr), Some(r)) => {
            let r = r.min(completion);
            ((completion - r) as f64 * out_rate + r as f64 * rr) / 1000.0
        }
        _ => f(usage.completion_tokens) * out_rate / 1000.0,
    };
    Some(Cost {
        input_usd,
        output_usd,
        total_usd: input_usd + output_usd,
        model_key: key.to_string(),
        matched,
        cache_priced_at_input_rate: fallback,
    })
}
