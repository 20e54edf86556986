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
    /// An unidentified (e.g. self-hosted OpenAI-compatible) server.
    #[default]
    Unknown,
}

impl ProviderId {
    /// Parses a bundle provider key.
    pub fn from_key(k: &str) -> Option<ProviderId> {
        Some(match k {
            "openai" => ProviderId::OpenAi,
            "anthropic" => ProviderId::Anthropic,
            "google" | "google_vertex" => ProviderId::Google,
            "azure_openai" => ProviderId::AzureOpenAi,
            "aws_bedrock" => ProviderId::AwsBedrock,
            "cohere" => ProviderId::Cohere,
            "mistral" => ProviderId::Mistral,
            "groq" => ProviderId::Groq,
            "together" | "togetherai" => ProviderId::Together,
            "fireworks" => ProviderId::Fireworks,
            "replicate" => ProviderId::Replicate,
            "huggingface" => ProviderId::HuggingFace,
            "ollama" => ProviderId::Ollama,
            "lmstudio" => ProviderId::LmStudio,
            "vllm" => ProviderId::Vllm,
            "deepseek" => ProviderId::DeepSeek,
            "openrouter" => ProviderId::OpenRouter,
            "xai" => ProviderId::Xai,
            "perplexity" => ProviderId::Perplexity,
            _ => return None,
        })
    }

    /// The specific provider name (for attributes), e.g. "openrouter", "deepseek".
    pub fn name(self) -> &'static str {
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

    /// Bundle `models` provider keys holding this provider's prices, most specific first.
    pub fn price_keys(self) -> &'static [&'static str] {
        match self {
            ProviderId::Google => &["google", "google_vertex"],
            ProviderId::AzureOpenAi => &["azure_openai", "openai"],
            ProviderId::Together => &["togetherai"],
            ProviderId::Unknown | ProviderId::Vllm => &[],
            ProviderId::OpenAi => &["openai"],
            ProviderId::Anthropic => &["anthropic"],
            ProviderId::AwsBedrock => &["aws_bedrock"],
            ProviderId::Cohere => &["cohere"],
            ProviderId::Mistral => &["mistral"],
            ProviderId::Groq => &["groq"],
            ProviderId::Fireworks => &["fireworks"],
            ProviderId::Replicate => &["replicate"],
            ProviderId::HuggingFace => &["huggingface"],
            ProviderId::Ollama => &["ollama"],
            ProviderId::LmStudio => &["lmstudio"],
            ProviderId::DeepSeek => &["deepseek"],
            ProviderId::OpenRouter => &["openrouter"],
            ProviderId::Xai => &["xai"],
            ProviderId::Perplexity => &["perplexity"],
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

pub use super::detect::{detect, glob_match};
