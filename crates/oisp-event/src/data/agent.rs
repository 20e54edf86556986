//! `agent.*` event payloads (`events/agent.schema.json`): `tool_call`,
//! `tool_result`, `plan_step`, `rag_retrieve`, `session`.

use super::ai_common::RedactedContent;
use crate::macros::string_enum;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

string_enum! {
    /// `agent_info.type`.
    pub enum AgentType {
        Ide => "ide",
        Cli => "cli",
        Browser => "browser",
        Server => "server",
        Autonomous => "autonomous",
        Workflow => "workflow",
        Other => "other",
    }
}

string_enum! {
    /// `tool_info.type`: tool category.
    pub enum ToolType {
        FileRead => "file_read",
        FileWrite => "file_write",
        FileEdit => "file_edit",
        Terminal => "terminal",
        Shell => "shell",
        Browser => "browser",
        Http => "http",
        Database => "database",
        CodeExecution => "code_execution",
        Search => "search",
        Retrieval => "retrieval",
        ApiCall => "api_call",
        ComputerUse => "computer_use",
        Other => "other",
    }
}

string_enum! {
    /// `agent.tool_call.triggered_by`.
    pub enum TriggeredBy {
        LlmDecision => "llm_decision",
        UserApproval => "user_approval",
        Automatic => "automatic",
        Workflow => "workflow",
        Retry => "retry",
    }
}

string_enum! {
    /// `agent.tool_call.risk_level`.
    pub enum RiskLevel {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
}

string_enum! {
    /// `agent.tool_result.side_effects[].type`.
    pub enum SideEffectType {
        FileCreated => "file_created",
        FileModified => "file_modified",
        FileDeleted => "file_deleted",
        ProcessSpawned => "process_spawned",
        NetworkRequest => "network_request",
        DatabaseWrite => "database_write",
        Other => "other",
    }
}

string_enum! {
    /// `agent.plan_step.step_type`.
    pub enum StepType {
        Planning => "planning",
        Reasoning => "reasoning",
        Decision => "decision",
        Reflection => "reflection",
        Revision => "revision",
    }
}

string_enum! {
    /// `agent.rag_retrieve.source.type`.
    pub enum RagSourceType {
        VectorDb => "vector_db",
        KnowledgeBase => "knowledge_base",
        FileSearch => "file_search",
        WebSearch => "web_search",
        Database => "database",
        Api => "api",
        Other => "other",
    }
}

string_enum! {
    /// `agent.session.action`: session lifecycle action.
    pub enum SessionAction {
        Start => "start",
        End => "end",
        Pause => "pause",
        Resume => "resume",
        Error => "error",
    }
}

/// `$defs/agent_info`: the AI agent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AgentInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Schema key `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AgentType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
}

/// `$defs/tool_info`: a tool.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ToolInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Schema key `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ToolType>,
    /// e.g. `mcp`, `langchain`, `native`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// MCP server name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `agent.tool_call` data (`$defs/tool_call`). `tool` is required.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgentToolCall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentInfo>,
    pub tool: ToolInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggered_by: Option<TriggeredBy>,
    /// Tool arguments (an object; may be partially redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_approval: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_level: Option<RiskLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_reasons: Option<Vec<String>>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `agent.tool_result.error`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ToolError {
    /// Schema key `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `agent.tool_result.result`: string, object, array or redaction marker.
///
/// Caveat: as with `ToolArguments`, the v0.1 `oneOf` makes a redaction
/// marker match both the object and the marker branch, so
/// [`ToolResultValue::Redacted`] fails schema validation; emitters should
/// omit `result` and set `result_hash` instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolResultValue {
    Text(String),
    Redacted(RedactedContent),
    Object(Map<String, Value>),
    Array(Vec<Value>),
}

/// One entry of `agent.tool_result.side_effects`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SideEffect {
    /// Schema key `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SideEffectType>,
    /// What was affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// `agent.tool_result` data (`$defs/tool_result`). `call_id` is required.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgentToolResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<ToolInfo>,
    /// Links back to the `agent.tool_call`.
    pub call_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ToolError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ToolResultValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_effects: Option<Vec<SideEffect>>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `agent.plan_step.planned_actions`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlannedAction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
}

/// `agent.plan_step` data (`$defs/plan_step`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgentPlanStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_type: Option<StepType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_actions: Option<Vec<PlannedAction>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_files: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration: Option<u64>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `agent.rag_retrieve.source`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RagSource {
    /// Schema key `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RagSourceType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// e.g. `pinecone`, `chromadb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// One entry of `agent.rag_retrieve.results`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RagResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_preview: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// `agent.rag_retrieve` data (`$defs/rag_retrieve`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgentRagRetrieve {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<RagSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<RagResult>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_retrieved: Option<u64>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `agent.session.stats`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SessionStats {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_calls: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_read: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_written: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_used: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_cost_usd: Option<f64>,
}

/// `agent.session` data (`$defs/session`). `action` is required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSession {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentInfo>,
    pub action: SessionAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<SessionStats>,
    /// Keys not defined by the schema (kept for lossless round-trips).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AgentSession {
    /// A session event with only `action` set.
    pub fn new(action: SessionAction) -> Self {
        Self {
            agent: None,
            action,
            session_id: None,
            task_description: None,
            duration_ms: None,
            stats: None,
            extra: Map::new(),
        }
    }
}
