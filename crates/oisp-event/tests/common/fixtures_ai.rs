//! Fully populated `ai.*` and `agent.*` payloads.

use oisp_event::*;
use serde_json::{json, Map};

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

fn obj(v: serde_json::Value) -> Map<String, serde_json::Value> {
    v.as_object().expect("object").clone()
}

pub fn provider() -> ProviderInfo {
    ProviderInfo {
        name: Some(ProviderName::Openai),
        endpoint: s("https://api.openai.com/v1/chat/completions"),
        region: s("us"),
        organization_id: s("org-abc"),
        project_id: s("proj-abc"),
    }
}

pub fn model() -> ModelInfo {
    ModelInfo {
        id: s("gpt-4o"),
        name: s("GPT-4o"),
        family: s("gpt-4o"),
        version: s("2024-11-20"),
        capabilities: Some(ModelCapabilities {
            vision: Some(true),
            function_calling: Some(true),
            streaming: Some(true),
            json_mode: Some(true),
            system_messages: Some(true),
            reasoning: Some(false),
            web_search: Some(false),
            code_execution: Some(false),
        }),
        context_window: Some(128_000),
        max_output_tokens: Some(16_384),
    }
}

fn full_message(role: Role, content: Content) -> Message {
    Message {
        role,
        content: Some(content),
        content_hash: s("sha256:abc"),
        content_length: Some(12),
        has_images: Some(false),
        image_count: Some(0),
        tool_call_id: s("call_1"),
        name: s("read_file"),
    }
}

fn full_redaction() -> RedactedContent {
    RedactedContent {
        redacted: Redaction {
            reason: "pii_detected".to_owned(),
            detector: s("regex_email"),
            original_length: Some(523),
            hash: s("sha256:def"),
            preview: s("I need help with"),
            redaction_profile: s("default_safe"),
            findings: Some(vec![RedactionFinding {
                kind: s("email"),
                count: Some(2),
            }]),
        },
    }
}

fn full_tool_call() -> ToolCall {
    ToolCall {
        id: s("call_1"),
        name: s("read_file"),
        kind: s("function"),
        arguments: Some(ToolArguments::Object(obj(json!({"path": "/tmp/x"})))),
        arguments_hash: s("sha256:123"),
    }
}

pub fn ai_request() -> AiRequest {
    AiRequest {
        request_id: s("req_1"),
        conversation_id: s("conv_1"),
        provider: Some(provider()),
        model: Some(model()),
        auth: Some(AuthInfo {
            kind: Some(AuthType::ApiKey),
            account_type: Some(AccountType::Corporate),
            key_prefix: Some(AuthInfo::key_prefix_of("sk-proj-SECRETSECRET")),
            key_hash: s("sha256:key"),
        }),
        request_type: Some(RequestType::Chat),
        streaming: Some(true),
        messages: Some(vec![
            full_message(Role::System, Content::Redacted(full_redaction())),
            full_message(Role::User, Content::Text("hello world!".to_owned())),
        ]),
        messages_count: Some(2),
        has_system_prompt: Some(true),
        system_prompt_hash: s("sha256:sys"),
        tools: Some(vec![ToolDefinition {
            name: s("read_file"),
            kind: Some(ToolDefinitionType::Function),
            description: s("Read a file"),
        }]),
        tools_count: Some(1),
        tool_choice: s("auto"),
        parameters: Some(RequestParameters {
            temperature: Some(0.7),
            top_p: Some(1.0),
            max_tokens: Some(4096),
            frequency_penalty: Some(0.0),
            presence_penalty: Some(0.5),
            stop: Some(vec!["\n\n".to_owned()]),
            extra: Map::new(),
        }),
        has_rag_context: Some(false),
        has_images: Some(false),
        image_count: Some(0),
        estimated_tokens: Some(1850),
        extra: Map::new(),
    }
}

pub fn ai_response() -> AiResponse {
    AiResponse {
        request_id: s("req_1"),
        conversation_id: s("conv_1"),
        provider_request_id: s("chatcmpl-abc"),
        provider: Some(provider()),
        model: Some(model()),
        status_code: Some(200),
        success: Some(true),
        error: Some(AiError {
            kind: s("rate_limit_error"),
            message: s("slow down"),
            code: s("429"),
        }),
        choices: Some(vec![Choice {
            index: Some(0),
            message: Some(full_message(
                Role::Assistant,
                Content::Text("hi".to_owned()),
            )),
            finish_reason: Some(FinishReason::ToolCalls),
        }]),
        tool_calls: Some(vec![full_tool_call()]),
        tool_calls_count: Some(1),
        usage: Some(Usage {
            prompt_tokens: Some(1823),
            completion_tokens: Some(156),
            total_tokens: Some(1979),
            cached_tokens: Some(1024),
            reasoning_tokens: Some(0),
            input_cost_usd: Some(0.00456),
            output_cost_usd: Some(0.00156),
            total_cost_usd: Some(0.00612),
        }),
        latency_ms: Some(2222),
        time_to_first_token_ms: Some(187),
        was_cached: Some(false),
        finish_reason: Some(FinishReason::ToolCalls),
        extra: Map::new(),
    }
}

pub fn ai_streaming_chunk() -> AiStreamingChunk {
    AiStreamingChunk {
        request_id: s("req_1"),
        chunk_index: Some(3),
        delta: Some(ChunkDelta {
            content: s("Hel"),
            role: s("assistant"),
            tool_calls: Some(vec![ToolCall {
                arguments: Some(ToolArguments::Text("{\"pa".to_owned())),
                ..full_tool_call()
            }]),
        }),
        finish_reason: s("stop"),
        extra: Map::new(),
    }
}

pub fn ai_embedding() -> AiEmbedding {
    AiEmbedding {
        provider: Some(provider()),
        model: Some(model()),
        input_count: Some(4),
        total_tokens: Some(100),
        dimensions: Some(1536),
        latency_ms: Some(80),
        extra: Map::new(),
    }
}

pub fn agent_info() -> AgentInfo {
    AgentInfo {
        name: s("claude-code"),
        kind: Some(AgentType::Cli),
        version: s("1.0.0"),
        framework: s("custom"),
        session_id: s("sess_1"),
        task_id: s("task_1"),
    }
}

pub fn tool_info() -> ToolInfo {
    ToolInfo {
        name: s("read_file"),
        kind: Some(ToolType::FileRead),
        provider: s("mcp"),
        server: s("filesystem"),
        description: s("Reads a file"),
    }
}

pub fn agent_tool_call() -> AgentToolCall {
    AgentToolCall {
        agent: Some(agent_info()),
        tool: tool_info(),
        call_id: s("call_1"),
        triggered_by: Some(TriggeredBy::LlmDecision),
        arguments: Some(obj(json!({"path": "/tmp/x"}))),
        arguments_hash: s("sha256:123"),
        requires_approval: Some(true),
        approved: Some(true),
        approver: s("alice"),
        risk_level: Some(RiskLevel::Low),
        risk_reasons: Some(vec!["read_only_operation".to_owned()]),
        extra: Map::new(),
    }
}

pub fn agent_tool_result() -> AgentToolResult {
    AgentToolResult {
        agent: Some(agent_info()),
        tool: Some(tool_info()),
        call_id: "call_1".to_owned(),
        success: Some(false),
        error: Some(ToolError {
            kind: s("not_found"),
            message: s("no such file"),
        }),
        result: Some(ToolResultValue::Array(vec![json!("line 1")])),
        result_hash: s("sha256:res"),
        result_size_bytes: Some(2048),
        duration_ms: Some(12),
        side_effects: Some(vec![SideEffect {
            kind: Some(SideEffectType::FileModified),
            target: s("/tmp/x"),
        }]),
        extra: Map::new(),
    }
}

pub fn agent_plan_step() -> AgentPlanStep {
    AgentPlanStep {
        agent: Some(agent_info()),
        step_index: Some(1),
        step_type: Some(StepType::Planning),
        description: s("Read the config first"),
        planned_actions: Some(vec![PlannedAction {
            action: s("read"),
            tool: s("read_file"),
            rationale: s("need config"),
        }]),
        context_files: Some(vec!["config.yaml".to_owned()]),
        iteration: Some(0),
        extra: Map::new(),
    }
}

pub fn agent_rag_retrieve() -> AgentRagRetrieve {
    AgentRagRetrieve {
        agent: Some(agent_info()),
        source: Some(RagSource {
            kind: Some(RagSourceType::VectorDb),
            name: s("docs"),
            provider: s("chromadb"),
        }),
        query: s("how to deploy"),
        query_hash: s("sha256:q"),
        results_count: Some(1),
        results: Some(vec![RagResult {
            source: s("deploy.md"),
            score: Some(0.93),
            content_preview: s("Deploy with..."),
            content_hash: s("sha256:c"),
            metadata: Some(obj(json!({"page": 3}))),
        }]),
        latency_ms: Some(15),
        tokens_retrieved: Some(512),
        extra: Map::new(),
    }
}

pub fn agent_session() -> AgentSession {
    AgentSession {
        agent: Some(agent_info()),
        session_id: s("sess_1"),
        task_description: s("fix the bug"),
        duration_ms: Some(60_000),
        stats: Some(SessionStats {
            llm_calls: Some(3),
            tool_calls: Some(5),
            files_read: Some(2),
            files_written: Some(1),
            tokens_used: Some(9000),
            estimated_cost_usd: Some(0.12),
        }),
        ..AgentSession::new(SessionAction::End)
    }
}
