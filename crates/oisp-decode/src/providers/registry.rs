//! The embedded OISP spec bundle and the provider / API-shape / detection types.
//! Detection itself lives in `detect.rs` (re-exported here).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

const BUNDLE_JSON: &str = include_str!("../../../../vendor/oisp-spec/spec/v0.1/bundle.json");

/// The parts of the OISP bundle this crate uses.
#[derive(Debug, Default, Deserialize)]
pub struct Bundle {
    #[serde(default)]
    pub bundle_version: String,
    #[serde(default)]
    pub domain_index: HashMap<String, String>,
    #[serde(default)]
    pub domain_patterns: Vec<DomainPattern>,
    #[serde(default)]
    pub models: HashMap<String, ModelEntry>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DomainPattern {
    /// Glob with `*` wildcards, e.g. `*.openai.azure.com`.
    pub pattern: String,
    pub provider: String,
}

/// One model entry of the bundle (key `"{provider}/{id}"`), prices in USD per 1,000 tokens.
#[derive(Debug, Default, Deserialize)]
pub struct ModelEntry {
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub mode: Option<String>,
    pub input_cost_per_1k: Option<f64>,
    pub output_cost_per_1k: Option<f64>,
    pub cache_read_cost_per_1k: Option<f64>,
    pub cache_write_cost_per_1k: Option<f64>,
    pub reasoning_cost_per_1k: Option<f64>,
}

/// The bundle, parsed once. An unparsable bundle (impossible for the vendored file) gives an
/// empty one rather than a panic.
pub fn bundle() -> &'static Bundle {
    static B: OnceLock<Bundle> = OnceLock::new();
    B.get_or_init(|| serde_json::from_str(BUNDLE_JSON).unwrap_or_default())
}

/// A concrete provider. Several map to OISP "other"; [`ProviderId::name`] keeps the specific one.
///
/// Adding a variant: list it in [`ProviderId::ALL`] (in declaration order, before `Unknown`) and
/// give it a [`name`](ProviderId::name); the compiler and the tests below point at the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderId {
    OpenAi,
    Anthropic,
    Google,
    AzureOpenAi,
    AwsBedrock,
    Cohere,
    Mistral,
    Groq,
    Together,
    Fireworks,
    Replicate,
    HuggingFace,
    Ollama,
    LmStudio,
    Vllm,
    DeepSeek,
    OpenRouter,
    Xai,
    Perplexity,
    /// An unidentified (e.g. self-hosted OpenAI-compatible) server. Stays the last variant.
    #[default]
    Unknown,
}

/// Bundle provider keys that name a provider under another spelling than its [`ProviderId::name`].
const KEY_ALIASES: &[(&str, ProviderId)] = &[
    ("google_vertex", ProviderId::Google),
    ("togetherai", ProviderId::Together),
];

/// `ProviderId::name` of every variant, indexed by discriminant (static, so that
/// [`ProviderId::price_keys`] can hand out one-element slices of it).
static NAMES: [&str; ProviderId::ALL.len()] = {
    let mut names = [""; ProviderId::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = ProviderId::ALL[i].name();
        i += 1;
    }
    names
};

// `ALL` is in declaration order: `ALL[i] as usize == i`, so no variant is listed twice and,
// with `Unknown` last, none is missing.
const _: () = {
    let mut i = 0;
    while i < ProviderId::ALL.len() {
        assert!(ProviderId::ALL[i] as usize == i);
        i += 1;
    }
    assert!(ProviderId::Unknown as usize == ProviderId::ALL.len() - 1);
};

impl ProviderId {
    /// Every variant once, in declaration order, `Unknown` last. Lists and lookups of providers
    /// derive from this; the recognised (named) providers are all but the last.
    pub const ALL: &'static [ProviderId] = &[
        ProviderId::OpenAi,
        ProviderId::Anthropic,
        ProviderId::Google,
        ProviderId::AzureOpenAi,
        ProviderId::AwsBedrock,
        ProviderId::Cohere,
        ProviderId::Mistral,
        ProviderId::Groq,
        ProviderId::Together,
        ProviderId::Fireworks,
        ProviderId::Replicate,
        ProviderId::HuggingFace,
        ProviderId::Ollama,
        ProviderId::LmStudio,
        ProviderId::Vllm,
        ProviderId::DeepSeek,
        ProviderId::OpenRouter,
        ProviderId::Xai,
        ProviderId::Perplexity,
        ProviderId::Unknown,
    ];

    /// The recognisable providers: [`ProviderId::ALL`] without `Unknown`.
    pub fn known() -> impl Iterator<Item = ProviderId> {
        ProviderId::ALL
            .iter()
            .copied()
            .filter(|p| *p != ProviderId::Unknown)
    }

    /// Parses a bundle provider key: a known provider's [`name`](ProviderId::name) or one of
    /// its aliases (`google_vertex`, `togetherai`). `"unknown"` and anything else give `None`.
    pub fn from_key(k: &str) -> Option<ProviderId> {
        ProviderId::known().find(|p| p.name() == k).or_else(|| {
            KEY_ALIASES
                .iter()
                .find(|(alias, _)| *alias == k)
                .map(|(_, p)| *p)
        })
    }

    /// The specific provider name (for attributes), e.g. "openrouter", "deepseek".
    pub const fn name(self) -> &'static str {
        match self {
            ProviderId::OpenAi => "openai",
            ProviderId::Anthropic => "anthropic",
            ProviderId::Google => "google",
            ProviderId::AzureOpenAi => "azure_openai",
            ProviderId::AwsBedrock => "aws_bedrock",
            ProviderId::Cohere => "cohere",
            ProviderId::Mistral => "mistral",
            ProviderId::Groq => "groq",
            ProviderId::Together => "together",
            ProviderId::Fireworks => "fireworks",
            ProviderId::Replicate => "replicate",
            ProviderId::HuggingFace => "huggingface",
            ProviderId::Ollama => "ollama",
            ProviderId::LmStudio => "lmstudio",
            ProviderId::Vllm => "vllm",
            ProviderId::DeepSeek => "deepseek",
            ProviderId::OpenRouter => "openrouter",
            ProviderId::Xai => "xai",
            ProviderId::Perplexity => "perplexity",
            ProviderId::Unknown => "unknown",
        }
    }

    /// The OISP `provider.name` enum value.
    pub fn oisp_name(self) -> &'static str {
        match self {
            ProviderId::DeepSeek
            | ProviderId::OpenRouter
            | ProviderId::Xai
            | ProviderId::Perplexity
            | ProviderId::Unknown => "other",
            p => p.name(),
        }
    }

    /// Bundle `models` provider keys holding this provider's prices, most specific first: the
    /// provider's own name unless listed otherwise here.
    pub fn price_keys(self) -> &'static [&'static str] {
        match self {
            ProviderId::Google => &["google", "google_vertex"],
            ProviderId::AzureOpenAi => &["azure_openai", "openai"],
            ProviderId::Together => &["togetherai"],
            ProviderId::Unknown | ProviderId::Vllm => &[],
            p => std::slice::from_ref(&NAMES[p as usize]),
        }
    }
}

/// Which wire format a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiShape {
    OpenAiChat,
    OpenAiCompletions,
    OpenAiResponses,
    /// OpenAI Realtime over WebSocket, each turn expressed in the Responses shapes
    /// (`providers::ws`).
    OpenAiRealtime,
    OpenAiEmbeddings,
    OpenAiImages,
    OpenAiAudio,
    OpenAiModerations,
    AnthropicMessages,
    AnthropicCountTokens,
    GeminiGenerate,
    GeminiCountTokens,
    GeminiEmbed,
    OllamaChat,
    OllamaGenerate,
    OllamaEmbed,
    /// A POST to a known AI provider on an endpoint without a dedicated decoder.
    UnknownInference,
    /// Provider traffic that is not a model call (model listing, files, ...).
    #[default]
    NonInference,
}

/// How the provider was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectionMethod {
    /// Host in the domain index / built-in list (authority or SNI).
    #[default]
    KnownEndpoint,
    /// Host matched a bundle glob pattern (e.g. `*.openai.azure.com`).
    DomainPattern,
    /// Well-known local server port (11434, 1234, 8000).
    PortHeuristic,
    /// Path, header and body fingerprints only.
    PayloadInspection,
}

impl DetectionMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            DetectionMethod::KnownEndpoint => "known_endpoint",
            DetectionMethod::DomainPattern => "domain_pattern",
            DetectionMethod::PortHeuristic => "port_heuristic",
            DetectionMethod::PayloadInspection => "payload_inspection",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Detection {
    pub provider: ProviderId,
    /// OISP provider enum value (`provider.oisp_name()`).
    pub oisp_provider: &'static str,
    pub api_shape: ApiShape,
    pub method: DetectionMethod,
    /// `scheme://host[:port]/path` without the query string (which may carry `?key=`).
    pub endpoint: String,
    /// Host the detection used (lower-case, port removed).
    pub host: Option<String>,
    /// Client SDK hinted by headers: "openai-sdk" (`x-stainless-*`), "anthropic-sdk", ...
    pub sdk_hint: Option<String>,
}

pub use super::detect::{detect, glob_match, provider_for_host};

#[cfg(test)]
mod tests {
    use super::ProviderId::{self, *};

    /// Exhaustive on purpose: a new variant stops this from compiling until it is listed here,
    /// and the assertion then fails until it is in `ALL` too.
    fn listed(p: ProviderId) -> bool {
        match p {
            OpenAi | Anthropic | Google | AzureOpenAi | AwsBedrock | Cohere | Mistral | Groq
            | Together | Fireworks | Replicate | HuggingFace | Ollama | LmStudio | Vllm
            | DeepSeek | OpenRouter | Xai | Perplexity | Unknown => ProviderId::ALL.contains(&p),
        }
    }

    #[test]
    fn all_lists_every_variant_once_in_order() {
        for (i, &p) in ProviderId::ALL.iter().enumerate() {
            assert!(listed(p));
            assert_eq!(p as usize, i, "{p:?} out of declaration order");
        }
        assert_eq!(ProviderId::ALL.last(), Some(&Unknown));
        assert_eq!(ProviderId::known().count(), ProviderId::ALL.len() - 1);
    }

    #[test]
    fn names_round_trip() {
        for p in ProviderId::known() {
            assert_eq!(ProviderId::from_key(p.name()), Some(p), "{p:?}");
        }
        assert_eq!(ProviderId::from_key(Unknown.name()), None);
        assert_eq!(ProviderId::from_key("google_vertex"), Some(Google));
        assert_eq!(ProviderId::from_key("togetherai"), Some(Together));
        assert_eq!(ProviderId::from_key("nope"), None);
        let mut names: Vec<_> = ProviderId::ALL.iter().map(|p| p.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ProviderId::ALL.len(), "names are distinct");
    }

    #[test]
    fn price_keys_default_to_the_name() {
        assert_eq!(Mistral.price_keys(), ["mistral"]);
        assert_eq!(Perplexity.price_keys(), ["perplexity"]);
        assert_eq!(Together.price_keys(), ["togetherai"]);
        assert!(Unknown.price_keys().is_empty());
    }
}
