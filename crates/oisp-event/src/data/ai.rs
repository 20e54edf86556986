//! `ai.*` event payloads (`events/ai.schema.json`): `request`, `response`,
//! `streaming_chunk`, `embedding`.

use super::ai_common::{
    AuthInfo, Message, ModelInfo, ProviderInfo, ToolCall, ToolDefinition, Usage,
};
use crate::macros::string_enum;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

string_enum! {
    /// `ai.request.request_type`.
    pub enum RequestType {
        Chat => "chat",
        Completion => "completion",
        Embedding => "embedding",
        Image => "image",
        Audio => "audio",
        Moderation => "moderation",
        Other => "other",
    }
}

string_enum! {
    /// `finish_reason` of `ai.response` and of its choices. (Note:
    /// `ai.streaming_chunk.finish_reason` is a free string in the schema.)
    pub enum FinishReason {
        Stop => "stop",
        Length => "length",
        ToolCalls => "tool_calls",
        ContentFilter => "content_filter",
        Error => "error",
        Other => "other",
    }
}

/// `ai.request.parameters`: sampling parameters. Parameters the schema does
/// not name (e.g. `seed`) go in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RequestParameters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Vec<String>>,
    /// Parameters not named by the schema.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ai.request` data (`$defs/request`). No field is required by the schema.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AiRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Sensor-generated id of the conversation thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_type: Option<RequestType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<Message>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_system_prompt: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ToolDefinition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_count: Option<u64>,
    /// Free string, e.g. `auto`, `none`, `required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<RequestParameters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_rag_context: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_images: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_tokens: Option<u64>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ai.response.error`: provider error details.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AiError {
    /// Schema key `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// One entry of `ai.response.choices`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Choice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
}

/// `ai.response` data (`$defs/response`). No field is required.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AiResponse {
    /// Links back to the request's `request_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// The provider's own id, e.g. `chatcmpl-...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelInfo>,
    /// HTTP status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AiError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<Choice>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_first_token_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub was_cached: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ai.streaming_chunk.delta`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChunkDelta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Free string in the schema (not the `Role` enum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
}

/// `ai.streaming_chunk` data (`$defs/streaming_chunk`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AiStreamingChunk {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<ChunkDelta>,
    /// Free string here (unlike `ai.response`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ai.embedding` data (`$defs/embedding`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AiEmbedding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelInfo>,
    /// Number of inputs embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
