//! `AiCall`: one AI API call in provider-agnostic form, the output of the provider decoders.
//!
//! Token semantics are normalised across providers (see [`Usage`]); enum values follow the OISP
//! `ai.request` / `ai.response` vocabulary so a later stage can map them one to one.

use super::pricing::Cost;
use super::registry::Detection;
use oisp_capture::Timestamp;
use serde::Serialize;

/// Everything decoded from one request/response pair.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AiCall {
    /// Who the call went to and which API shape it used.
    pub detection: Detection,
    pub request: AiRequest,
    /// `None` when no response head was captured.
    pub response: Option<AiResponse>,
    /// Credentials found on the request. Kept apart from everything else so a later stage can
    /// redact them (prefix + hash); never copied into messages or the endpoint URL.
    pub auth: Option<AuthInfo>,
    /// Tool/function results carried by the REQUEST (answers to earlier tool calls), in order.
    pub tool_results: Vec<ToolResult>,
    /// Set for embedding calls.
    pub embedding: Option<EmbeddingInfo>,
    pub timing: Timing,
    /// Cost in USD from the bundle prices; `None` when the model or usage is unknown.
    pub cost: Option<Cost>,
    /// Anything not understood, each a sentence saying what and where.
    pub warnings: Vec<String>,
    /// Set when the call travelled over a WebSocket (`providers::ws`).
    pub websocket: Option<super::ws::WsCallInfo>,
}

/// OISP `request_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    #[default]
    Chat,
    Completion,
    Embedding,
    Image,
    Audio,
    Moderation,
    /// Token counting and other utility calls.
    Other,
}

impl RequestType {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestType::Chat => "chat",
            RequestType::Completion => "completion",
            RequestType::Embedding => "embedding",
            RequestType::Image => "image",
            RequestType::Audio => "audio",
            RequestType::Moderation => "moderation",
            RequestType::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AiRequest {
    /// Model as requested (body `model`, or the URL path for Gemini / Azure deployments).
    pub model: Option<String>,
    pub request_type: RequestType,
    pub streaming: bool,
    /// Conversation in order. A system prompt given outside the messages (Anthropic `system`,
    /// Gemini `systemInstruction`, Responses `instructions`) is the first message, role system.
    pub messages: Vec<Message>,
    pub has_system_prompt: bool,
    pub tools: Vec<ToolDef>,
    /// `tool_choice` flattened to a string: "auto", "none", "required", "any" or a tool name.
    pub tool_choice: Option<String>,
    pub params: Params,
    /// Raw prompt for legacy completions / Ollama generate (also present as a user message).
    pub prompt: Option<String>,
}

/// OISP message roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    #[default]
    User,
    Assistant,
    Tool,
    Function,
}

impl Role {
    /// Maps a provider role name; unknown names (e.g. "developer") are mapped sensibly.
    pub fn parse(s: &str) -> Role {
        match s {
            "system" | "developer" => Role::System,
            "assistant" | "model" | "ai" | "bot" => Role::Assistant,
            "tool" | "ipython" => Role::Tool,
            "function" => Role::Function,
            _ => Role::User,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Function => "function",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Message {
    pub role: Role,
    /// Text content (text parts joined with '\n'); `None` when the message has no text.
    pub content: Option<String>,
    pub name: Option<String>,
    /// For tool results: the id of the call they answer.
    pub tool_call_id: Option<String>,
    /// Tool calls made by an assistant message in the history.
    pub tool_calls: Vec<ToolCall>,
    pub has_images: bool,
    pub image_count: u32,
}

/// OISP tool definition types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    #[default]
    Function,
    CodeInterpreter,
    FileSearch,
    ComputerUse,
    Other,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ToolDef {
    pub name: Option<String>,
    pub kind: ToolKind,
    /// The provider's own type string (e.g. "web_search_20250305"), when it had one.
    pub raw_type: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Params {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<f64>,
    /// `max_tokens` / `max_completion_tokens` / `max_output_tokens` / `maxOutputTokens` /
    /// Ollama `num_predict`.
    pub max_tokens: Option<u64>,
    pub frequency_penalty: Option<f64>,
    pub presence_penalty: Option<f64>,
    pub stop: Vec<String>,
    pub seed: Option<i64>,
    pub n: Option<u64>,
}

/// A tool call, made by the model (response) or present in the request history.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: Option<String>,
    /// "function" for function calls; provider type otherwise (e.g. "server_tool_use").
    pub kind: String,
    /// Arguments as a raw JSON string; streamed argument deltas concatenated in order.
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ToolResult {
    pub call_id: String,
    pub content: String,
    pub is_error: Option<bool>,
}

/// OISP `finish_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    Error,
    Other,
}

impl FinishReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Error => "error",
            FinishReason::Other => "other",
        }
    }

    /// Maps any provider's stop/finish reason string.
    pub fn from_provider(raw: &str) -> FinishReason {
        match raw {
            "stop" | "end_turn" | "stop_sequence" | "STOP" | "completed" | "eos" => {
                FinishReason::Stop
            }
            "length" | "max_tokens" | "MAX_TOKENS" | "max_output_tokens" | "model_length" => {
                FinishReason::Length
            }
            "tool_calls" | "function_call" | "tool_use" => FinishReason::ToolCalls,
            "content_filter" | "refusal" | "SAFETY" | "RECITATION" | "BLOCKLIST"
            | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => FinishReason::ContentFilter,
            "error" | "failed" | "MALFORMED_FUNCTION_CALL" => FinishReason::Error,
            _ => FinishReason::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Choice {
    pub index: u32,
    pub role: Option<Role>,
    /// Output text (streamed deltas concatenated).
    pub text: Option<String>,
    /// Reasoning/thinking text when the provider returns it.
    pub reasoning: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<FinishReason>,
    /// The provider's own value, e.g. "end_turn".
    pub raw_finish_reason: Option<String>,
}

/// Token usage, normalised:
/// - `prompt_tokens` counts ALL input tokens, cached ones included (Anthropic's
///   `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`);
/// - `completion_tokens` counts ALL output tokens, reasoning included (Gemini's
///   `candidatesTokenCount + thoughtsTokenCount`);
/// - `cached_tokens` are input tokens read from cache, `cache_creation_tokens` those written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Usage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub total_tokens: Option<u64>,
    pub cached_tokens: Option<u64>,
    pub cache_creation_tokens: Option<u64>,
    pub reasoning_tokens: Option<u64>,
}

impl Usage {
    pub fn is_empty(&self) -> bool {
        *self == Usage::default()
    }

    /// Fills `total_tokens` from prompt + completion when the provider did not send it.
    pub fn fill_total(&mut self) {
        if self.total_tokens.is_none() {
            if let (Some(p), Some(c)) = (self.prompt_tokens, self.completion_tokens) {
                self.total_tokens = Some(p.saturating_add(c));
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AiError {
    /// Provider error type, e.g. "invalid_request_error", "RESOURCE_EXHAUSTED".
    pub kind: Option<String>,
    pub message: Option<String>,
    /// Provider error code (string or number rendered as a string).
    pub code: Option<String>,
    pub param: Option<String>,
}

/// Rate-limit information from response headers.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RateLimit {
    pub limit_requests: Option<u64>,
    pub remaining_requests: Option<u64>,
    pub reset_requests: Option<String>,
    pub limit_tokens: Option<u64>,
    pub remaining_tokens: Option<u64>,
    pub reset_tokens: Option<String>,
    /// `retry-after` (or `retry-after-ms` / 1000) in seconds, when numeric.
    pub retry_after_secs: Option<f64>,
    /// Every rate-limit related header, verbatim, in wire order.
    pub headers: Vec<(String, String)>,
}

impl RateLimit {
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AiResponse {
    pub status: u16,
    /// 2xx status and no error reported in the body or stream.
    pub success: bool,
    pub error: Option<AiError>,
    /// Model as returned by the provider.
    pub model: Option<String>,
    /// Request id from headers (`x-request-id`, `request-id`, `apim-request-id`, ...).
    pub provider_request_id: Option<String>,
    /// Response object id from the body (`chatcmpl-…`, `msg_…`, `resp_…`, Gemini `responseId`).
    pub response_id: Option<String>,
    pub choices: Vec<Choice>,
    /// All tool calls of all choices, in order.
    pub tool_calls: Vec<ToolCall>,
    /// Finish reason of the first choice.
    pub finish_reason: Option<FinishReason>,
    pub raw_finish_reason: Option<String>,
    pub usage: Option<Usage>,
    pub rate_limit: RateLimit,
    /// Number of stream chunks (SSE events, NDJSON lines, JSON array elements); 0 if not streamed.
    pub chunk_count: u32,
}

/// How credentials were presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthScheme {
    Bearer,
    Basic,
    /// A bare key in a header (`x-api-key`, `api-key`, `x-goog-api-key`).
    ApiKeyHeader,
    /// `?key=` query parameter.
    QueryParam,
    AwsSigV4,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthInfo {
    pub scheme: AuthScheme,
    /// Header name, or "query:key".
    pub location: String,
    /// The raw secret (scheme word removed). Must be redacted before leaving the sensor.
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct EmbeddingInfo {
    /// Number of inputs in the request (1 for a single string).
    pub input_count: u32,
    /// Vector dimensions (from the first vector; base64 float32 payloads are decoded to count).
    pub dimensions: Option<u32>,
    /// Number of vectors returned.
    pub vector_count: u32,
    /// "float" or "base64" when requested.
    pub encoding_format: Option<String>,
    pub total_tokens: Option<u64>,
}

/// Timestamps from the capture, and durations derived from their monotonic parts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Timing {
    pub request_start: Timestamp,
    pub request_end: Timestamp,
    /// First byte of the response.
    pub response_start: Option<Timestamp>,
    /// First stream chunk carrying output (text, reasoning or tool call); streaming only.
    pub first_token: Option<Timestamp>,
    pub response_end: Option<Timestamp>,
    /// `response_end - request_start` in milliseconds.
    pub latency_ms: Option<u64>,
    /// `first_token - request_start` in milliseconds.
    pub time_to_first_token_ms: Option<u64>,
}
