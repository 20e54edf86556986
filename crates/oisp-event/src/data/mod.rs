//! Event payloads: [`EventData`] has one variant per `event_type`.
//!
//! Each payload struct mirrors its schema `$defs` entry field for field:
//! required fields are plain values, optional ones are `Option` and omitted
//! from JSON when `None`, schema enums are Rust enums serialized as the exact
//! schema strings, and schema keys named `type` are Rust fields named
//! `kind`. Integers that are counts, sizes or durations are `u64`; ports and
//! HTTP status codes are `u16`. Top-level payload structs keep keys the
//! schema does not define in a flattened `extra` map (empty for our own
//! events); nested objects drop such keys.

mod agent;
mod ai;
mod ai_common;
mod file;
mod network;
mod process;
mod sensor;

pub use agent::{
    AgentInfo, AgentPlanStep, AgentRagRetrieve, AgentSession, AgentToolCall, AgentToolResult,
    AgentType, PlannedAction, RagResult, RagSource, RagSourceType, RiskLevel, SessionAction,
    SessionStats, SideEffect, SideEffectType, StepType, ToolError, ToolInfo, ToolResultValue,
    ToolType, TriggeredBy,
};
pub use ai::{
    AiEmbedding, AiError, AiRequest, AiResponse, AiStreamingChunk, Choice, ChunkDelta,
    FinishReason, RequestParameters, RequestType,
};
pub use ai_common::{
    user_text, AccountType, AuthInfo, AuthType, Content, Message, ModelCapabilities, ModelInfo,
    ProviderInfo, ProviderName, RedactedContent, Redaction, RedactionFinding, Role, ToolArguments,
    ToolCall, ToolDefinition, ToolDefinitionType, Usage,
};
pub use file::{
    FileDelete, FileHash, FileInfo, FileOpen, FileRead, FileRename, FileWrite, OpenFlag,
};
pub use network::{
    Certificate, Direction, DnsAnswer, DnsQueryType, DnsResponseCode, Endpoint, Geo, HttpInfo,
    NetworkAccept, NetworkConnect, NetworkDns, NetworkFlow, Protocol, TlsInfo,
};
pub use process::{ProcessExec, ProcessExit, ProcessFork, TerminationType};
pub use sensor::SensorWarning;

use serde::{Serialize, Serializer};
use serde_json::Value;

/// Defines [`EventData`] and everything keyed by its `event_type` string.
macro_rules! event_data {
    ($( $variant:ident($ty:ty) = $name:literal, )+) => {
        /// The `data` payload of an [`crate::Event`], tagged by `event_type`.
        ///
        /// Payloads are stored inline (not boxed) so that matching and
        /// field access stay plain; events are built once and moved whole.
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum EventData {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant($ty),
            )+
            /// An `event_type` this crate does not model; `data` is kept
            /// verbatim (an absent `data` reads as `{}`).
            Unknown {
                event_type: String,
                data: Value,
            },
        }

        impl EventData {
            /// Every `event_type` with a dedicated variant.
            pub const KNOWN_TYPES: &'static [&'static str] = &[$($name),+];

            /// The `event_type` string for this payload.
            pub fn event_type(&self) -> &str {
                match self {
                    $( EventData::$variant(_) => $name, )+
                    EventData::Unknown { event_type, .. } => event_type,
                }
            }

            /// Parses `data` according to `event_type`. Known types must
            /// match their struct; other types become [`EventData::Unknown`].
            pub fn from_parts(event_type: &str, data: Value) -> Result<Self, serde_json::Error> {
                match event_type {
                    $( $name => serde_json::from_value(data).map(EventData::$variant), )+
                    _ => Ok(EventData::Unknown {
                        event_type: event_type.to_owned(),
                        data,
                    }),
                }
            }
        }

        impl Serialize for EventData {
            /// Serializes the payload only (what goes under `data`); the
            /// tag is written by the envelope.
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( EventData::$variant(inner) => inner.serialize(serializer), )+
                    EventData::Unknown { data, .. } => data.serialize(serializer),
                }
            }
        }

        $(
            impl From<$ty> for EventData {
                fn from(inner: $ty) -> Self {
                    EventData::$variant(inner)
                }
            }
        )+
    };
}

event_data! {
    AiRequest(AiRequest) = "ai.request",
    AiResponse(AiResponse) = "ai.response",
    AiStreamingChunk(AiStreamingChunk) = "ai.streaming_chunk",
    AiEmbedding(AiEmbedding) = "ai.embedding",
    AgentToolCall(AgentToolCall) = "agent.tool_call",
    AgentToolResult(AgentToolResult) = "agent.tool_result",
    AgentPlanStep(AgentPlanStep) = "agent.plan_step",
    AgentRagRetrieve(AgentRagRetrieve) = "agent.rag_retrieve",
    AgentSession(AgentSession) = "agent.session",
    ProcessExec(ProcessExec) = "process.exec",
    ProcessExit(ProcessExit) = "process.exit",
    ProcessFork(ProcessFork) = "process.fork",
    FileOpen(FileOpen) = "file.open",
    FileRead(FileRead) = "file.read",
    FileWrite(FileWrite) = "file.write",
    FileDelete(FileDelete) = "file.delete",
    FileRename(FileRename) = "file.rename",
    NetworkConnect(NetworkConnect) = "network.connect",
    NetworkAccept(NetworkAccept) = "network.accept",
    NetworkFlow(NetworkFlow) = "network.flow",
    NetworkDns(NetworkDns) = "network.dns",
    SensorWarning(SensorWarning) = "sensor.warning",
}

impl EventData {
    /// The payload as a JSON value (what goes under `data`).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("event payloads always serialize")
    }
}
