//! Shared `ai.schema.json` `$defs`: provider, model, auth, messages, tools,
//! usage and the redaction marker. `agent.tool_result.result` reuses
//! [`RedactedContent`].

use crate::limits::{truncate_chars, KEY_PREFIX_MAX_CHARS};
use crate::macros::string_enum;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

string_enum! {
    /// `provider_info.name`: canonical provider name.
    pub enum ProviderName {
        Openai => "openai",
        Anthropic => "anthropic",
        Google => "google",
        AzureOpenai => "azure_openai",
        AwsBedrock => "aws_bedrock",
        Cohere => "cohere",
        Mistral => "mistral",
        Groq => "groq",
        Together => "together",
        Fireworks => "fireworks",
        Replicate => "replicate",
        Huggingface => "huggingface",
        Ollama => "ollama",
        Lmstudio => "lmstudio",
        Vllm => "vllm",
        Other => "other",
    }
}

string_enum! {
    /// `auth_info.type`.
    pub enum AuthType {
        ApiKey => "api_key",
        Oauth => "oauth",
        ServiceAccount => "service_account",
        Session => "session",
        None => "none",
        Unknown => "unknown",
    }
}

string_enum! {
    /// `auth_info.account_type`.
    pub enum AccountType {
        Personal => "personal",
        Corporate => "corporate",
        Shared => "shared",
        Unknown => "unknown",
    }
}

string_enum! {
    /// `message.role`.
    pub enum Role {
        System => "system",
        User => "user",
        Assistant => "assistant",
        Tool => "tool",
        Function => "function",
    }
}

string_enum! {
    /// `tool_definition.type`.
    pub enum ToolDefinitionType {
        Function => "function",
        CodeInterpreter => "code_interpreter",
        FileSearch => "file_search",
        ComputerUse => "computer_use",
        Other => "other",
    }
}

/// `$defs/provider_info`: AI provider identification.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProviderInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ProviderName>,
    /// API endpoint URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
}

/// `$defs/model_info/properties/capabilities`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModelCapabilities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_calling: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_mode: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_messages: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_execution: Option<bool>,
}

/// `$defs/model_info`: model identification and capabilities.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Model id as sent in the request or returned, e.g. `gpt-4o`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<ModelCapabilities>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
}

/// `$defs/auth_info`. `key_prefix` has `maxLength: 8`: build it with
/// [`AuthInfo::key_prefix_of`]. Never put a whole key anywhere in an event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuthInfo {
    /// Schema key `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AuthType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<AccountType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    /// Hash of the full key, for tracking without exposure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_hash: Option<String>,
}

impl AuthInfo {
    /// The first (at most) 8 characters of `key`, the schema's limit.
    pub fn key_prefix_of(key: &str) -> String {
        truncate_chars(key, KEY_PREFIX_MAX_CHARS).to_owned()
    }
}

/// One entry of `$redacted.findings`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RedactionFinding {
    /// Schema key `type`, e.g. `email`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// The object under the `$redacted` key. `preview` has `maxLength: 100`
/// (see [`crate::limits::REDACTION_PREVIEW_MAX_CHARS`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Redaction {
    /// Why it was redacted, e.g. `pii_detected`, `policy`.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction_profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<RedactionFinding>>,
}

/// `$defs/redacted_content`: the marker `{"$redacted": {...}}` that stands
/// in for removed content. Deserializes only from an object whose sole key is
/// `$redacted`, so it never swallows an ordinary object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactedContent {
    #[serde(rename = "$redacted")]
    pub redacted: Redaction,
}

impl RedactedContent {
    /// A marker with only `reason` set.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            redacted: Redaction {
                reason: reason.into(),
                ..Redaction::default()
            },
        }
    }
}

/// `message.content`: text, or a redaction marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Redacted(RedactedContent),
}

/// `$defs/message`: one conversation message. Only `role` is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// Length of the content in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_images: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Message {
    /// A message with only `role` set.
    pub fn new(role: Role) -> Self {
        Self {
            role,
            content: None,
            content_hash: None,
            content_length: None,
            has_images: None,
            image_count: None,
            tool_call_id: None,
            name: None,
        }
    }

    /// The message's text as a reader should see it: the content, or `[redacted N chars]` for
    /// redacted content; `None` without content.
    pub fn text(&self) -> Option<String> {
        match self.content.as_ref()? {
            Content::Text(t) => Some(t.clone()),
            Content::Redacted(r) => Some(format!(
                "[redacted {} chars]",
                r.redacted.original_length.unwrap_or(0)
            )),
        }
    }

    /// The text of the last user message of `messages` (else of the last message): what a
    /// request asked.
    pub fn last_user_text(messages: &[Message]) -> Option<String> {
        messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .or_else(|| messages.last())
            .and_then(Message::text)
    }
}

/// `text` without the `<system-reminder>…</system-reminder>` blocks agents (Claude Code) put in
/// the user's turn, trimmed: what the user asked.
pub fn user_text(text: &str) -> String {
    const OPEN: &str = "<system-reminder>";
    const CLOSE: &str = "</system-reminder>";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        match rest[i..].find(CLOSE) {
            Some(j) => rest = &rest[i + j + CLOSE.len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// `$defs/tool_definition`: a tool offered to the model.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ToolDefinition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Schema key `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ToolDefinitionType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `tool_call.arguments`: a JSON string, an object, or a redaction marker.
///
/// Caveat: in v0.1 the schema declares `oneOf [string, object,
/// redacted_content]`; a redaction marker is also an object, so it matches
/// two branches and **fails** validation. Emitters must not use
/// [`ToolArguments::Redacted`]; drop `arguments` and set `arguments_hash`
/// instead. The variant exists to read foreign events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolArguments {
    Text(String),
    Redacted(RedactedContent),
    Object(Map<String, Value>),
}

/// `$defs/tool_call`: a tool call made by the model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ToolCall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Schema key `type` (free string, e.g. `function`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<ToolArguments>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments_hash: Option<String>,
}

/// `$defs/usage`: token usage and estimated cost.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_cost_usd: Option<f64>,
}
