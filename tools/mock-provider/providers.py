"""Response generation for the mock provider: OpenAI (and OpenAI-compatible), Anthropic, Gemini, Ollama.

Pure request -> response logic, independent of HTTP framing. Response text, ids and token counts
are derived deterministically from the request (hashes and byte lengths) so recorded fixtures
and the goldens decoded from them are stable across re-recordings. Streaming responses are async
generators: each yielded `bytes` is one write on the wire.
"""
from __future__ import annotations

import asyncio
import base64
import datetime as _dt
import email.utils
import hashlib
import json
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs

# --------------------------------------------------------------------------------------------
# Request / response containers


@dataclass
class Request:
    method: str
    target: str  # path with query, as sent
    headers: List[Tuple[str, str]]  # lowercase names, in order
    body: bytes
    scheme: str = "https"

    def __post_init__(self) -> None:
        path, _, q = self.target.partition("?")
        self.path = path
        self.query = {k: v[-1] for k, v in parse_qs(q, keep_blank_values=True).items()}

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        name = name.lower()
        for k, v in reversed(self.headers):
            if k == name:
                return v
        return default

    @property
    def host(self) -> str:
        return (self.header(":authority") or self.header("host") or "").lower()

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else {}


@dataclass
class Response:
    status: int
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: Optional[AsyncIterator[bytes]] = None
    compressible: bool = False  # may be gzip-encoded if the client accepts it


class State:
    """Server-wide state: prompt-cache prefixes (for Anthropic cache_read/cache_creation) and options."""

    def __init__(self, stream_delay_ms: float = 8.0) -> None:
        self.cached_prefixes: set = set()
        self.stream_delay = stream_delay_ms / 1000.0
        self.request_counter = 0


# --------------------------------------------------------------------------------------------
# Deterministic helpers

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def hid(*parts: Any, n: int = 24, alphabet: str = "hex") -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode("utf-8"))
        h.update(b"\x00")
    d = h.digest()
    if alphabet == "hex":
        return (d.hex() * 2)[:n]
    num = int.from_bytes(d, "big")
    out = []
    while len(out) < n:
        num, r = divmod(num, 62)
        out.append(B62[r])
        if num == 0:
            num = int.from_bytes(hashlib.sha256(d + bytes(out[-1], "ascii")).digest(), "big")
    return "".join(out)


def ntok(text: str) -> int:
    """Deterministic token estimate: a token per 4 UTF-8 bytes, at least 1."""
    return max(1, (len(text.encode("utf-8")) + 3) // 4)


def summarize(text: str, limit: int = 60) -> str:
    t = " ".join(text.split())
    if len(t) > limit:
        t = t[:limit].rstrip() + "..."
    return t


def reply_text(user_text: str) -> str:
    n = len(user_text.encode("utf-8"))
    if n > 4096:
        return f'This is a mock reply to a {n}-byte prompt starting with: "{summarize(user_text, 40)}"'
    return f'This is a mock reply to: "{summarize(user_text)}"'


def split_words(text: str) -> List[str]:
    """Stream pieces: each word together with the whitespace before it (like BPE tokens)."""
    pieces = re.findall(r"\s*\S+", text)
    return pieces or [text]


def split_fixed(text: str, n: int) -> List[str]:
    return [text[i : i + n] for i in range(0, len(text), n)] or [""]


def entities(text: str) -> List[str]:
    """Capitalised words after the first, used as deterministic tool-call arguments."""
    words = re.findall(r"[A-Za-z][A-Za-z\-]+", text)
    ents = []
    for w in words[1:]:
        if w[0].isupper() and w not in ents and w.lower() not in {"i", "what", "the", "and", "please"}:
            ents.append(w)
    return ents


def args_for_schema(schema: Optional[dict], entity: str) -> dict:
    schema = schema or {}
    props = schema.get("properties") or {}
    required = schema.get("required") or list(props.keys())
    out: Dict[str, Any] = {}
    for name in required:
        p = props.get(name, {})
        typ = p.get("type", "string")
        if isinstance(typ, list):
            typ = next((t for t in typ if t != "null"), "string")
        typ = typ.lower() if isinstance(typ, str) else "string"  # Gemini's OpenAPI schemas: STRING, OBJECT…
        if "enum" in p and p["enum"]:
            out[name] = p["enum"][0]
        elif typ == "string":
            out[name] = entity
        elif typ == "integer":
            out[name] = 3
        elif typ == "number":
            out[name] = 2.5
        elif typ == "boolean":
            out[name] = True
        elif typ == "array":
            out[name] = [entity]
        elif typ == "object":
            out[name] = args_for_schema(p, entity)
        else:
            out[name] = entity
    return out


# A scripted tool call in the user's text: `[[tool:NAME {JSON arguments}]]` makes the model call
# exactly that tool with those arguments (when the request offers it), so a test can drive a real
# agent through one known step (e.g. `[[tool:Bash {"command": "echo hi > out.txt"}]]`).
SCRIPTED_TOOL = re.compile(r"\[\[tool:([A-Za-z0-9_.-]+) (\{.*?\})\]\]", re.S)


def plan_tool_calls(tools: List[Tuple[str, Optional[dict]]], user_text: str, parallel: bool) -> List[Tuple[str, dict]]:
    """Which tools to call with which arguments. A scripted call (`SCRIPTED_TOOL`) if the text has
    one; else one tool and several entities: that tool once per entity (parallel calls); several
    tools: each once with the first entity."""
    # The last one counts: an agent may quote earlier text (e.g. commit messages) before the prompt.
    # With `[[parallel]]` in the text every scripted call is made at once (parallel tool calls).
    offered = {name for name, _ in tools}
    scripted_calls: List[Tuple[str, dict]] = []
    for scripted in reversed(list(SCRIPTED_TOOL.finditer(user_text))):
        if scripted.group(1) not in offered:
            continue
        try:
            scripted_calls.insert(0, (scripted.group(1), json.loads(scripted.group(2))))
        except ValueError:
            continue
        if "[[parallel]]" not in user_text:
            break
    if scripted_calls:
        return scripted_calls
    ents = entities(user_text) or ["default"]
    calls: List[Tuple[str, dict]] = []
    if len(tools) == 1:
        name, schema = tools[0]
        for e in ents[:3]:
            calls.append((name, args_for_schema(schema, e)))
    else:
        for name, schema in tools[:3]:
            calls.append((name, args_for_schema(schema, ents[0])))
    if not parallel:
        calls = calls[:1]
    return calls


def jdump(o: Any) -> bytes:
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def jpretty(o: Any) -> bytes:
    return json.dumps(o, indent=2, ensure_ascii=False).encode("utf-8")


def http_date() -> str:
    return email.utils.formatdate(usegmt=True)


def now_s() -> int:
    return int(time.time())


def json_response(status: int, obj: Any, headers: List[Tuple[str, str]], pretty: bool = False,
                  ctype: str = "application/json") -> Response:
    body = jpretty(obj) if pretty else jdump(obj)
    return Response(status, [("date", http_date()), ("content-type", ctype)] + headers, body, compressible=True)


async def paced(chunks: List[Any], delay: float) -> AsyncIterator[bytes]:
    """Yields each chunk after a pause; a callable chunk is rendered at send time (fresh timestamps)."""
    for i, c in enumerate(chunks):
        if i:
            await asyncio.sleep(delay)
        yield c() if callable(c) else c


def stream_response(status: int, ctype: str, headers: List[Tuple[str, str]], chunks: List[bytes], state: State) -> Response:
    return Response(status, [("date", http_date()), ("content-type", ctype)] + headers,
                    stream=paced(chunks, state.stream_delay))


# --------------------------------------------------------------------------------------------
# OpenAI and OpenAI-compatible

SNAPSHOTS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-5": "gpt-5-2025-08-07",
    "gpt-5-mini": "gpt-5-mini-2025-08-07",
    "o3-mini": "o3-mini-2025-01-31",
}


def oai_flavor(req: Request) -> str:
    p, h = req.path, req.host
    if p.startswith("/openai/deployments/"):
        return "azure"
    if p.startswith("/openai/v1/") or "groq" in h:
        return "groq"
    if p.startswith("/api/v1/") or "openrouter" in h:
        return "openrouter"
    for name in ("mistral", "deepseek", "together"):
        if name in h:
            return name
    if req.scheme == "http":
        return "ollama"
    return "openai"


def oai_error(status: int, message: str, etype: str, code: Optional[str], param: Optional[str] = None,
              extra_headers: Optional[List[Tuple[str, str]]] = None, req: Optional[Request] = None) -> Response:
    rid = "req_" + hid("err", status, req.body if req else b"", req.path if req else "", n=32)
    headers = [("x-request-id", rid), ("openai-version", "2020-10-01"), ("openai-processing-ms", "12")]
    headers += extra_headers or []
    body = {"error": {"message": message, "type": etype, "param": param, "code": code}}
    return json_response(status, body, headers)


def oai_key(req: Request) -> Optional[str]:
    auth = req.header("authorization")
    if auth and auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return req.header("api-key")


def oai_auth_error(req: Request) -> Optional[Response]:
    key = oai_key(req)
    if not key:
        return oai_error(401, "You didn't provide an API key. You need to provide your API key in an "
                         "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                         "invalid_request_error", None, req=req)
    if "INVALID" in key:
        masked = key[:8] + "*" * 10 + key[-4:]
        return oai_error(401, f"Incorrect API key provided: {masked}. You can find your API key at "
                         "https://platform.openai.com/account/api-keys.", "invalid_request_error",
                         "invalid_api_key", req=req)
    return None


def oai_trigger(req: Request, model: str) -> Optional[Response]:
    if model == "trigger-429":
        return oai_error(429, f"Rate limit reached for gpt-4o-mini in organization org-mock on requests per min "
                         "(RPM): Limit 3, Used 3, Requested 1. Please try again in 1s. Visit "
                         "https://platform.openai.com/account/rate-limits to learn more.", "requests",
                         "rate_limit_exceeded", extra_headers=[
                             ("retry-after", "1"), ("x-ratelimit-limit-requests", "3"),
                             ("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "1s")], req=req)
    if model == "trigger-401":
        return oai_error(401, "Incorrect API key provided: sk-proj-****KEY. You can find your API key at "
                         "https://platform.openai.com/account/api-keys.", "invalid_request_error",
                         "invalid_api_key", req=req)
    if model == "trigger-400":
        return oai_error(400, "Invalid value for 'temperature': expected a number between 0 and 2.",
                         "invalid_request_error", "invalid_value", param="temperature", req=req)
    if model == "trigger-500":
        return oai_error(500, "The server had an error while processing your request. Sorry about that!",
                         "server_error", None, req=req)
    return None


def oai_headers(req: Request, flavor: str, prompt_tokens: int, model: str) -> List[Tuple[str, str]]:
    rid = "req_" + hid("rid", req.path, req.body, n=32)
    ms = str(40 + len(req.body) % 400)
    if flavor == "azure":
        aid = hid("apim", req.body, n=32)
        return [("apim-request-id", f"{aid[:8]}-{aid[8:12]}-{aid[12:16]}-{aid[16:20]}-{aid[20:32]}"),
                ("x-request-id", aid), ("x-ms-region", "East US"), ("azureml-model-session", "d123-20250101"),
                ("x-ms-rai-invoked", "true"), ("x-ms-deployment-name", model),
                ("x-ratelimit-remaining-requests", "99"), ("x-ratelimit-remaining-tokens", str(100000 - prompt_tokens)),
                ("x-ratelimit-limit-requests", "100"), ("x-ratelimit-limit-tokens", "100000"),
                ("strict-transport-security", "max-age=31536000; includeSubDomains; preload")]
    if flavor == "groq":
        return [("x-request-id", rid), ("x-groq-region", "us-east-1"), ("via", "1.1 google"),
                ("x-ratelimit-limit-requests", "14400"), ("x-ratelimit-limit-tokens", "6000"),
                ("x-ratelimit-remaining-requests", "14399"), ("x-ratelimit-remaining-tokens", str(max(0, 6000 - prompt_tokens))),
                ("x-ratelimit-reset-requests", "6s"), ("x-ratelimit-reset-tokens", "1.2s")]
    if flavor == "ollama":
        return []
    return [("access-control-expose-headers", "X-Request-ID"),
            ("openai-organization", "user-mockorg"), ("openai-processing-ms", ms),
            ("openai-project", "proj_" + hid("proj", n=24, alphabet="b62")), ("openai-version", "2020-10-01"),
            ("x-ratelimit-limit-requests", "10000"), ("x-ratelimit-limit-tokens", "200000"),
            ("x-ratelimit-remaining-requests", "9999"),
            ("x-ratelimit-remaining-tokens", str(max(0, 200000 - prompt_tokens))),
            ("x-ratelimit-reset-requests", "8.64s"), ("x-ratelimit-reset-tokens", f"{prompt_tokens * 3 // 10}ms"),
            ("x-request-id", rid), ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
            ("x-content-type-options", "nosniff")]


def oai_content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    out = []
    for part in content:
        if isinstance(part, dict):
            if part.get("type") in ("text", "input_text", "output_text"):
                out.append(part.get("text", ""))
        elif isinstance(part, str):
            out.append(part)
    return "\n".join(out)


def oai_prompt_size(messages: List[dict]) -> int:
    total = 0
    for m in messages:
        total += 4 + ntok(oai_content_text(m.get("content"))) if m.get("content") is not None else 4
        for tc in m.get("tool_calls") or []:
            total += ntok(json.dumps(tc))
    return total + 3


def chat_usage(prompt: int, completion: int, flavor: str) -> dict:
    u: Dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    if flavor in ("openai", "azure", "openrouter"):
        u["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
        u["completion_tokens_details"] = {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
    elif flavor == "groq":
        u.update({"queue_time": 0.0123, "prompt_time": round(prompt / 50000, 6),
                  "completion_time": round(completion / 800, 6), "total_time": round(prompt / 50000 + completion / 800, 6)})
    elif flavor == "deepseek":
        u["prompt_cache_hit_tokens"] = 0
        u["prompt_cache_miss_tokens"] = prompt
    return u


def chat_plan(body: dict) -> Tuple[str, List[Tuple[str, dict]], str]:
    """Returns (text, tool_calls, finish_reason) for a chat request."""
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    user_text = ""
    for m in reversed(messages):
        if m.get("role") == "user":
            user_text = oai_content_text(m.get("content"))
            break
    tools = [(t["function"]["name"], t["function"].get("parameters")) for t in body.get("tools") or []
             if t.get("type") == "function" and "function" in t]
    tool_choice = body.get("tool_choice", "auto")
    if last.get("role") == "tool":
        results = [summarize(oai_content_text(m.get("content")), 40) for m in messages if m.get("role") == "tool"]
        return "Based on the tool results: " + "; ".join(results), [], "stop"
    if tools and tool_choice != "none":
        if isinstance(tool_choice, dict) and tool_choice.get("function"):
            tools = [t for t in tools if t[0] == tool_choice["function"].get("name")] or tools
        calls = plan_tool_calls(tools, user_text, body.get("parallel_tool_calls", True) is not False)
        return "", calls, "tool_calls"
    return reply_text(user_text), [], "stop"


def chat_model(req: Request, body: dict, flavor: str) -> str:
    model = body.get("model") or ""
    if flavor == "azure":
        dep = req.path.split("/")[3]
        return SNAPSHOTS.get(model or dep, "gpt-4o-2024-11-20")
    return SNAPSHOTS.get(model, model)


def handle_chat(req: Request, state: State) -> Response:
    flavor = oai_flavor(req)
    if flavor != "ollama":
        err = oai_auth_error(req)
        if err:
            return err
    try:
        body = req.json()
    except ValueError:
        return oai_error(400, "We could not parse the JSON body of your request.", "invalid_request_error", None, req=req)
    model_in = body.get("model") or ""
    trig = oai_trigger(req, model_in)
    if trig:
        return trig
    if not body.get("messages"):
        return oai_error(400, "Missing required parameter: 'messages'.", "invalid_request_error",
                         "missing_required_parameter", param="messages", req=req)
    model = chat_model(req, body, flavor)
    text, calls, finish = chat_plan(body)
    prompt = oai_prompt_size(body["messages"]) + sum(ntok(json.dumps(t)) for t in body.get("tools") or [])
    call_objs = [{"id": "call_" + hid("call", req.body, i, n=24, alphabet="b62"), "type": "function",
                  "function": {"name": name, "arguments": json.dumps(args, separators=(",", ":"))}}
                 for i, (name, args) in enumerate(calls)]
    completion = ntok(text) + sum(ntok(c["function"]["arguments"]) + 4 for c in call_objs)
    cid = ("gen-" if flavor == "openrouter" else "chatcmpl-") + hid("chat", req.body, n=29, alphabet="b62")
    created = now_s()
    fp = "fp_" + hid("fp", model, n=10)
    headers = oai_headers(req, flavor, prompt, model)
    usage = chat_usage(prompt, completion, flavor)
    n_choices = max(1, int(body.get("n") or 1))

    def extras(obj: dict) -> dict:
        if flavor == "groq":
            obj["x_groq"] = {"id": "req_" + hid("groq", req.body, n=26, alphabet="b62")}
        elif flavor == "openrouter":
            obj["provider"] = "OpenAI"
        elif flavor == "azure":
            obj["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": AZURE_FILTER}]
        return obj

    if not body.get("stream"):
        msg: Dict[str, Any] = {"role": "assistant", "content": text if not call_objs else None, "refusal": None,
                               "annotations": []}
        if call_objs:
            msg["tool_calls"] = call_objs
        choices = []
        for i in range(n_choices):
            ch: Dict[str, Any] = {"index": i, "message": msg, "logprobs": None, "finish_reason": finish}
            if flavor == "azure":
                ch["content_filter_results"] = AZURE_FILTER
            choices.append(ch)
        obj = {"id": cid, "object": "chat.completion", "created": created, "model": model, "choices": choices,
               "usage": usage, "service_tier": "default", "system_fingerprint": fp}
        if flavor not in ("openai", "azure"):
            obj.pop("service_tier")
        return json_response(200, extras(obj), headers)

    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: dict, finish_reason: Optional[str] = None, first: bool = False) -> bytes:
        obj: Dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                               "service_tier": "default", "system_fingerprint": fp,
                               "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
        if flavor not in ("openai", "azure"):
            obj.pop("service_tier")
        if include_usage:
            obj["usage"] = None
        if flavor == "openai":
            obj["obfuscation"] = hid("obf", json.dumps(delta), n=6, alphabet="b62")
        if first:
            extras(obj)
        return b"data: " + jdump(obj) + b"\n\n"

    chunks: List[bytes] = []
    if flavor == "azure":
        # Azure sends the prompt filter results in a first chunk with no choices.
        chunks.append(b"data: " + jdump({"choices": [], "created": 0, "id": "", "model": "", "object": "",
                                         "prompt_filter_results": [{"prompt_index": 0,
                                                                    "content_filter_results": AZURE_FILTER}]}) + b"\n\n")
    if call_objs:
        chunks.append(chunk({"role": "assistant", "content": None, "refusal": None}, first=True))
        for i, c in enumerate(call_objs):
            chunks.append(chunk({"tool_calls": [{"index": i, "id": c["id"], "type": "function",
                                                 "function": {"name": c["function"]["name"], "arguments": ""}}]}))
            for piece in split_fixed(c["function"]["arguments"], 7):
                chunks.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}))
    else:
        chunks.append(chunk({"role": "assistant", "content": "", "refusal": None}, first=True))
        for piece in split_words(text):
            chunks.append(chunk({"content": piece}))
    chunks.append(chunk({}, finish))
    if include_usage:
        final: Dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                                 "service_tier": "default", "system_fingerprint": fp, "choices": [], "usage": usage}
        if flavor not in ("openai", "azure"):
            final.pop("service_tier")
        if flavor == "openai":
            final["obfuscation"] = hid("obf-usage", n=9, alphabet="b62")
        chunks.append(b"data: " + jdump(final) + b"\n\n")
    if flavor == "groq" and not include_usage:
        # Groq reports usage inside x_groq of the last chunk.
        last = json.loads(chunks[-1][6:])
        last["x_groq"] = {"id": "req_" + hid("groq", req.body, n=26, alphabet="b62"), "usage": usage}
        chunks[-1] = b"data: " + jdump(last) + b"\n\n"
    chunks.append(b"data: [DONE]\n\n")
    return stream_response(200, "text/event-stream; charset=utf-8", headers, chunks, state)


AZURE_FILTER = {"hate": {"filtered": False, "severity": "safe"}, "self_harm": {"filtered": False, "severity": "safe"},
                "sexual": {"filtered": False, "severity": "safe"}, "violence": {"filtered": False, "severity": "safe"}}


def handle_completions(req: Request, state: State) -> Response:
    flavor = oai_flavor(req)
    if flavor != "ollama":
        err = oai_auth_error(req)
        if err:
            return err
    body = req.json()
    trig = oai_trigger(req, body.get("model") or "")
    if trig:
        return trig
    prompt_in = body.get("prompt") or ""
    if isinstance(prompt_in, list):
        prompt_in = "\n".join(str(p) for p in prompt_in)
    text = " " + reply_text(prompt_in)
    model = body.get("model") or "gpt-3.5-turbo-instruct"
    if model == "gpt-3.5-turbo-instruct":
        model = "gpt-3.5-turbo-instruct:20230824-v2"
    cid = "cmpl-" + hid("cmpl", req.body, n=29, alphabet="b62")
    created = now_s()
    usage = {"prompt_tokens": ntok(prompt_in), "completion_tokens": ntok(text),
             "total_tokens": ntok(prompt_in) + ntok(text)}
    headers = oai_headers(req, flavor, usage["prompt_tokens"], model)
    if not body.get("stream"):
        obj = {"id": cid, "object": "text_completion", "created": created, "model": model,
               "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}], "usage": usage}
        return json_response(200, obj, headers)
    chunks = []
    pieces = split_words(text)
    for i, p in enumerate(pieces):
        chunks.append(b"data: " + jdump({"id": cid, "object": "text_completion", "created": created,
                                         "choices": [{"text": p, "index": 0, "logprobs": None,
                                                      "finish_reason": "stop" if i == len(pieces) - 1 else None}],
                                         "model": model}) + b"\n\n")
    chunks.append(b"data: [DONE]\n\n")
    return stream_response(200, "text/event-stream; charset=utf-8", headers, chunks, state)


EMBED_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


def embedding_vector(text: str, dims: int) -> List[float]:
    raw = b""
    i = 0
    while len(raw) < dims * 4:
        raw += hashlib.sha256(f"{text}\x00{i}".encode("utf-8")).digest()
        i += 1
    vals = struct.unpack(f"<{dims}I", raw[: dims * 4])
    vec = [(v / 0xFFFFFFFF - 0.5) * 0.1 for v in vals]
    norm = sum(x * x for x in vec) ** 0.5 or 1.0
    # Round through float32 so float and base64 encodings carry the same values.
    return [struct.unpack("<f", struct.pack("<f", x / norm))[0] for x in vec]


def handle_embeddings(req: Request, state: State) -> Response:
    flavor = oai_flavor(req)
    if flavor != "ollama":
        err = oai_auth_error(req)
        if err:
            return err
    body = req.json()
    model = body.get("model") or ("text-embedding-3-small" if flavor != "azure" else req.path.split("/")[3])
    trig = oai_trigger(req, model)
    if trig:
        return trig
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not inputs:
        return oai_error(400, "'input' is a required property", "invalid_request_error", None, param="input", req=req)
    dims = int(body.get("dimensions") or EMBED_DIMS.get(model, 1536))
    fmt = body.get("encoding_format") or "float"
    data = []
    total = 0
    for i, t in enumerate(inputs):
        t = t if isinstance(t, str) else json.dumps(t)
        total += ntok(t)
        vec = embedding_vector(t, dims)
        if fmt == "base64":
            emb: Any = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode("ascii")
        else:
            emb = vec
        data.append({"object": "embedding", "index": i, "embedding": emb})
    obj = {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": total, "total_tokens": total}}
    headers = oai_headers(req, flavor, total, model)
    return json_response(200, obj, headers)


MODEL_LIST = ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-5", "o3-mini", "text-embedding-3-small",
              "text-embedding-3-large", "gpt-3.5-turbo-instruct"]


def handle_models(req: Request, state: State) -> Response:
    err = oai_auth_error(req)
    if err:
        return err
    data = [{"id": m, "object": "model", "created": 1700000000 + i * 86400, "owned_by": "system"}
            for i, m in enumerate(MODEL_LIST)]
    return json_response(200, {"object": "list", "data": data}, oai_headers(req, oai_flavor(req), 0, ""))


# ---- Responses API


def responses_input(body: dict) -> Tuple[str, List[dict], List[dict]]:
    """Returns (last user text, function_call_output items, all input items as a list)."""
    inp = body.get("input")
    if isinstance(inp, str):
        return inp, [], [{"role": "user", "content": inp}]
    items = inp or []
    user_text = ""
    outputs = []
    for it in items:
        if it.get("type") == "function_call_output":
            outputs.append(it)
        elif it.get("role") == "user" and it.get("type", "message") == "message":
            user_text = oai_content_text(it.get("content"))
    return user_text, outputs, items


def handle_responses(req: Request, state: State) -> Response:
    flavor = oai_flavor(req)
    err = oai_auth_error(req)
    if err:
        return err
    body = req.json()
    model_in = body.get("model") or ""
    trig = oai_trigger(req, model_in)
    if trig:
        return trig
    model = SNAPSHOTS.get(model_in, model_in)
    user_text, outputs, items = responses_input(body)
    tools = [(t["name"], t.get("parameters")) for t in body.get("tools") or [] if t.get("type") == "function"]
    last = items[-1] if items else {}
    rid = "resp_" + hid("resp", req.body, n=48)
    created = now_s()
    out_items: List[dict] = []
    if last.get("type") == "function_call_output" or not tools or body.get("tool_choice") == "none":
        if last.get("type") == "function_call_output":
            text = "Based on the tool results: " + "; ".join(summarize(str(o.get("output")), 40) for o in outputs)
        else:
            text = reply_text(user_text)
        out_items.append({"id": "msg_" + hid("msg", req.body, n=48), "type": "message", "status": "completed",
                          "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}],
                          "role": "assistant"})
    else:
        calls = plan_tool_calls(tools, user_text, body.get("parallel_tool_calls", True) is not False)
        for i, (name, args) in enumerate(calls):
            out_items.append({"id": "fc_" + hid("fc", req.body, i, n=48), "type": "function_call", "status": "completed",
                              "arguments": json.dumps(args, separators=(",", ":")),
                              "call_id": "call_" + hid("call", req.body, i, n=24, alphabet="b62"), "name": name})
    instructions = body.get("instructions")
    in_tok = ntok(json.dumps(body.get("input"))) + (ntok(instructions) if instructions else 0) + \
        sum(ntok(json.dumps(t)) for t in body.get("tools") or [])
    out_tok = sum(ntok(i["content"][0]["text"]) if i["type"] == "message" else ntok(i["arguments"]) + 4 for i in out_items)
    usage = {"input_tokens": in_tok, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": out_tok,
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": in_tok + out_tok}

    def resp_obj(status: str, output: List[dict], usage_v: Optional[dict]) -> dict:
        return {"id": rid, "object": "response", "created_at": created, "status": status, "background": False,
                "completed_at": now_s() if status == "completed" else None,
                "error": None, "incomplete_details": None, "instructions": instructions,
                "max_output_tokens": body.get("max_output_tokens"), "max_tool_calls": None, "model": model,
                "output": output, "parallel_tool_calls": body.get("parallel_tool_calls", True),
                "previous_response_id": body.get("previous_response_id"), "prompt_cache_key": None,
                "reasoning": {"effort": None, "summary": None}, "safety_identifier": None,
                "service_tier": "default" if status == "completed" else "auto", "store": body.get("store", True),
                "temperature": body.get("temperature", 1.0), "text": {"format": {"type": "text"}, "verbosity": "medium"},
                "tool_choice": body.get("tool_choice", "auto"),
                "tools": [dict(t, strict=t.get("strict", True)) for t in body.get("tools") or []],
                "top_logprobs": 0, "top_p": body.get("top_p", 1.0), "truncation": "disabled", "usage": usage_v,
                "user": None, "metadata": body.get("metadata") or {}}

    headers = oai_headers(req, flavor, in_tok, model)
    if not body.get("stream"):
        return json_response(200, resp_obj("completed", out_items, usage), headers)

    seq = [0]
    chunks: List[bytes] = []

    def ev(typ: str, **fields: Any) -> None:
        obj = {"type": typ, "sequence_number": seq[0]}
        obj.update(fields)
        seq[0] += 1
        chunks.append(f"event: {typ}\n".encode() + b"data: " + jdump(obj) + b"\n\n")

    ev("response.created", response=resp_obj("in_progress", [], None))
    ev("response.in_progress", response=resp_obj("in_progress", [], None))
    for idx, item in enumerate(out_items):
        if item["type"] == "message":
            text = item["content"][0]["text"]
            ev("response.output_item.added", output_index=idx,
               item={"id": item["id"], "type": "message", "status": "in_progress", "content": [], "role": "assistant"})
            ev("response.content_part.added", item_id=item["id"], output_index=idx, content_index=0,
               part={"type": "output_text", "annotations": [], "logprobs": [], "text": ""})
            for piece in split_words(text):
                ev("response.output_text.delta", item_id=item["id"], output_index=idx, content_index=0, delta=piece,
                   logprobs=[], obfuscation=hid("obf", piece, n=8, alphabet="b62"))
            ev("response.output_text.done", item_id=item["id"], output_index=idx, content_index=0, text=text, logprobs=[])
            ev("response.content_part.done", item_id=item["id"], output_index=idx, content_index=0,
               part={"type": "output_text", "annotations": [], "logprobs": [], "text": text})
        else:
            ev("response.output_item.added", output_index=idx,
               item={"id": item["id"], "type": "function_call", "status": "in_progress", "arguments": "",
                     "call_id": item["call_id"], "name": item["name"]})
            for piece in split_fixed(item["arguments"], 7):
                ev("response.function_call_arguments.delta", item_id=item["id"], output_index=idx, delta=piece,
                   obfuscation=hid("obf", piece, n=8, alphabet="b62"))
            ev("response.function_call_arguments.done", item_id=item["id"], output_index=idx,
               arguments=item["arguments"], name=item["name"])
        ev("response.output_item.done", output_index=idx, item=item)
    ev("response.completed", response=resp_obj("completed", out_items, usage))
    return stream_response(200, "text/event-stream; charset=utf-8", headers, chunks, state)


# --------------------------------------------------------------------------------------------
# Anthropic


def ant_error(status: int, etype: str, message: str, req: Request, extra: Optional[List[Tuple[str, str]]] = None) -> Response:
    rid = "req_011C" + hid("anterr", status, req.body, n=20, alphabet="b62")
    headers = [("request-id", rid), ("x-should-retry", "true" if status in (429, 529, 500) else "false")]
    headers += extra or []
    return json_response(status, {"type": "error", "error": {"type": etype, "message": message}, "request_id": rid},
                         headers)


def ant_auth_error(req: Request) -> Optional[Response]:
    key = req.header("x-api-key")
    auth = req.header("authorization")
    if not key and auth and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    if not key:
        return ant_error(401, "authentication_error", "x-api-key header is required", req)
    if "INVALID" in key:
        return ant_error(401, "authentication_error", "invalid x-api-key", req)
    return None


def ant_trigger(req: Request, model: str) -> Optional[Response]:
    if model == "trigger-529":
        return ant_error(529, "overloaded_error", "Overloaded", req)
    if model == "trigger-429":
        return ant_error(429, "rate_limit_error",
                         "This request would exceed the rate limit for your organization (org-mock) of 50 requests per "
                         "minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.", req,
                         [("retry-after", "1"), ("anthropic-ratelimit-requests-limit", "50"),
                          ("anthropic-ratelimit-requests-remaining", "0"),
                          ("anthropic-ratelimit-requests-reset", "2026-01-01T00:00:01Z")])
    if model == "trigger-401":
        return ant_error(401, "authentication_error", "invalid x-api-key", req)
    if model == "trigger-400":
        return ant_error(400, "invalid_request_error", "max_tokens: Field required", req)
    if model == "trigger-500":
        return ant_error(500, "api_error", "Internal server error", req)
    return None


def ant_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    out = []
    for b in content or []:
        if b.get("type") == "text":
            out.append(b.get("text", ""))
        elif b.get("type") == "tool_result":
            out.append(ant_text(b.get("content") or ""))
    return "\n".join(out)


def has_cache_control(body: dict) -> Optional[str]:
    """Returns the text of the cached prefix (everything up to the last cache_control marker)."""
    parts: List[str] = []
    marker = None
    sys_ = body.get("system")
    blocks: List[Any] = []
    if isinstance(sys_, list):
        blocks.extend(sys_)
    elif isinstance(sys_, str):
        parts.append(sys_)
    for t in body.get("tools") or []:
        blocks.append(t)
    for m in body.get("messages") or []:
        if isinstance(m.get("content"), list):
            blocks.extend(m["content"])
    for b in blocks:
        if isinstance(b, dict) and b.get("type") == "text":
            parts.append(b.get("text", ""))
        elif isinstance(b, dict) and b.get("type") == "tool_result":
            parts.append(ant_text(b.get("content") or ""))
        else:
            parts.append(json.dumps(b, sort_keys=True))
        if isinstance(b, dict) and b.get("cache_control"):
            marker = len(parts)
    if marker is None:
        return None
    return "".join(parts[:marker])


def ant_headers(req: Request, in_tok: int, out_tok: int) -> List[Tuple[str, str]]:
    rid = "req_011C" + hid("ant", req.path, req.body, n=20, alphabet="b62")
    return [("request-id", rid), ("anthropic-organization-id", "8c1f2a50-0000-4000-8000-00000000m0ck"),
            ("anthropic-ratelimit-requests-limit", "4000"), ("anthropic-ratelimit-requests-remaining", "3999"),
            ("anthropic-ratelimit-requests-reset", "2026-01-01T00:00:00Z"),
            ("anthropic-ratelimit-input-tokens-limit", "2000000"),
            ("anthropic-ratelimit-input-tokens-remaining", str(2000000 - in_tok)),
            ("anthropic-ratelimit-input-tokens-reset", "2026-01-01T00:00:00Z"),
            ("anthropic-ratelimit-output-tokens-limit", "400000"),
            ("anthropic-ratelimit-output-tokens-remaining", str(400000 - out_tok)),
            ("anthropic-ratelimit-output-tokens-reset", "2026-01-01T00:00:00Z"),
            ("anthropic-ratelimit-tokens-limit", "2400000"),
            ("anthropic-ratelimit-tokens-remaining", str(2400000 - in_tok - out_tok)),
            ("anthropic-ratelimit-tokens-reset", "2026-01-01T00:00:00Z"),
            ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
            ("via", "1.1 google"), ("x-robots-tag", "none")]


def handle_messages(req: Request, state: State) -> Response:
    err = ant_auth_error(req)
    if err:
        return err
    try:
        body = req.json()
    except ValueError:
        return ant_error(400, "invalid_request_error", "There was an error parsing the body of your request.", req)
    model = body.get("model") or ""
    trig = ant_trigger(req, model)
    if trig:
        return trig
    if "max_tokens" not in body:
        return ant_error(400, "invalid_request_error", "max_tokens: Field required", req)
    messages = body.get("messages") or []
    if not messages:
        return ant_error(400, "invalid_request_error", "messages: Field required", req)
    # Claude Code 2.1.3xx puts system messages into `messages` (after the turns): the turn to
    # answer is the last user/assistant one.
    turns = [m for m in messages if m.get("role") != "system"] or messages
    last = turns[-1]
    user_text = ant_text(last.get("content")) if last.get("role") == "user" else ""
    last_is_tool_result = isinstance(last.get("content"), list) and any(
        b.get("type") == "tool_result" for b in last["content"])
    tools = [(t["name"], t.get("input_schema")) for t in body.get("tools") or [] if "name" in t]
    tool_choice = body.get("tool_choice") or {"type": "auto"}
    blocks: List[dict] = []
    thinking = body.get("thinking") or {}
    if thinking.get("type") in ("enabled", "adaptive"):
        blocks.append({"type": "thinking",
                       "thinking": f"The user asked: \"{summarize(user_text, 50)}\". I should answer briefly and clearly.",
                       "signature": base64.b64encode(hashlib.sha512(req.body).digest() * 2).decode("ascii")})
    stop_reason = "end_turn"
    if last_is_tool_result:
        results = [summarize(ant_text(b.get("content") or ""), 40) for b in last["content"] if b.get("type") == "tool_result"]
        blocks.append({"type": "text", "text": "Based on the tool results: " + "; ".join(results)})
    elif tools and tool_choice.get("type") != "none":
        if tool_choice.get("type") == "tool":
            tools = [t for t in tools if t[0] == tool_choice.get("name")] or tools
        calls = plan_tool_calls(tools, user_text, not tool_choice.get("disable_parallel_tool_use"))
        blocks.append({"type": "text", "text": f"I'll use the {calls[0][0]} tool to help with that."})
        for i, (name, args) in enumerate(calls):
            blocks.append({"type": "tool_use", "id": "toolu_01" + hid("toolu", req.body, i, n=22, alphabet="b62"),
                           "name": name, "input": args})
        stop_reason = "tool_use"
    else:
        blocks.append({"type": "text", "text": reply_text(user_text)})

    sys_ = body.get("system")
    sys_text = sys_ if isinstance(sys_, str) else ant_text(sys_ or [])
    in_total = 3 + ntok(sys_text) if sys_text else 3
    in_total += sum(4 + ntok(ant_text(m.get("content"))) for m in messages)
    in_total += sum(ntok(json.dumps(t)) for t in body.get("tools") or [])
    cache_creation = cache_read = 0
    prefix = has_cache_control(body)
    if prefix is not None:
        ptok = min(in_total - 1, ntok(prefix))
        if prefix in state.cached_prefixes:
            cache_read = ptok
        else:
            cache_creation = ptok
            state.cached_prefixes.add(prefix)
    in_tok = in_total - cache_creation - cache_read
    out_tok = 0
    for b in blocks:
        if b["type"] == "text":
            out_tok += ntok(b["text"])
        elif b["type"] == "thinking":
            out_tok += ntok(b["thinking"])
        elif b["type"] == "tool_use":
            out_tok += ntok(json.dumps(b["input"])) + 10
    msg_id = "msg_01" + hid("msg", req.body, n=22, alphabet="b62")
    usage = {"input_tokens": in_tok, "cache_creation_input_tokens": cache_creation,
             "cache_read_input_tokens": cache_read,
             "cache_creation": {"ephemeral_5m_input_tokens": cache_creation, "ephemeral_1h_input_tokens": 0},
             "output_tokens": out_tok, "service_tier": "standard"}
    headers = ant_headers(req, in_tok, out_tok)
    if not body.get("stream"):
        obj = {"model": model, "id": msg_id, "type": "message", "role": "assistant", "content": blocks,
               "stop_reason": stop_reason, "stop_sequence": None, "usage": usage}
        return json_response(200, obj, headers)

    chunks: List[bytes] = []

    def ev(typ: str, obj: dict) -> None:
        d = {"type": typ}
        d.update(obj)
        chunks.append(f"event: {typ}\n".encode() + b"data: " + jdump(d) + b"\n\n")

    start_usage = dict(usage, output_tokens=1)
    ev("message_start", {"message": {"model": model, "id": msg_id, "type": "message", "role": "assistant",
                                     "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}})
    for i, b in enumerate(blocks):
        if b["type"] == "thinking":
            ev("content_block_start", {"index": i, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
            if i == 0:
                ev("ping", {})
            for piece in split_words(b["thinking"]):
                ev("content_block_delta", {"index": i, "delta": {"type": "thinking_delta", "thinking": piece}})
            ev("content_block_delta", {"index": i, "delta": {"type": "signature_delta", "signature": b["signature"]}})
        elif b["type"] == "text":
            ev("content_block_start", {"index": i, "content_block": {"type": "text", "text": ""}})
            if i == 0:
                ev("ping", {})
            for piece in split_words(b["text"]):
                ev("content_block_delta", {"index": i, "delta": {"type": "text_delta", "text": piece}})
        else:
            ev("content_block_start", {"index": i, "content_block": {"type": "tool_use", "id": b["id"],
                                                                     "name": b["name"], "input": {}}})
            pj = json.dumps(b["input"], separators=(",", ":"))
            ev("content_block_delta", {"index": i, "delta": {"type": "input_json_delta", "partial_json": ""}})
            for piece in split_fixed(pj, 9):
                ev("content_block_delta", {"index": i, "delta": {"type": "input_json_delta", "partial_json": piece}})
        ev("content_block_stop", {"index": i})
    ev("message_delta", {"delta": {"stop_reason": stop_reason, "stop_sequence": None},
                         "usage": {"input_tokens": in_tok, "cache_creation_input_tokens": cache_creation,
                                   "cache_read_input_tokens": cache_read, "output_tokens": out_tok}})
    ev("message_stop", {})
    return stream_response(200, "text/event-stream; charset=utf-8", headers + [("cache-control", "no-cache")], chunks, state)


def handle_count_tokens(req: Request, state: State) -> Response:
    err = ant_auth_error(req)
    if err:
        return err
    body = req.json()
    trig = ant_trigger(req, body.get("model") or "")
    if trig:
        return trig
    sys_ = body.get("system")
    sys_text = sys_ if isinstance(sys_, str) else ant_text(sys_ or [])
    n = 3 + (ntok(sys_text) if sys_text else 0) + sum(4 + ntok(ant_text(m.get("content"))) for m in body.get("messages") or [])
    n += sum(ntok(json.dumps(t)) for t in body.get("tools") or [])
    return json_response(200, {"input_tokens": n}, ant_headers(req, 0, 0))


# --------------------------------------------------------------------------------------------
# Gemini


def gem_error(status: int, message: str, gstatus: str) -> Response:
    return json_response(status, {"error": {"code": status, "message": message, "status": gstatus}},
                         [("vary", "Origin, X-Origin, Referer"), ("server", "scaffolding on HTTPServer2")],
                         pretty=True, ctype="application/json; charset=UTF-8")


def gem_headers(req: Request) -> List[Tuple[str, str]]:
    return [("vary", "Origin"), ("vary", "X-Origin"), ("vary", "Referer"),
            ("server", "scaffolding on HTTPServer2"), ("x-xss-protection", "0"), ("x-frame-options", "SAMEORIGIN"),
            ("x-content-type-options", "nosniff"), ("server-timing", f"gfet4t7; dur={120 + len(req.body) % 300}"),
            ("alt-svc", 'h3=":443"; ma=2592000,h3-29=":443"; ma=2592000')]


def handle_gemini(req: Request, state: State) -> Response:
    m = re.match(r"^/(v1beta|v1|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)$", req.path)
    if not m:
        return gem_error(404, f"Method not found: {req.path}", "NOT_FOUND")
    model, method = m.group(2), m.group(3)
    key = req.header("x-goog-api-key") or req.query.get("key")
    if not key:
        return gem_error(403, "Method doesn't allow unregistered callers (callers without established identity). "
                         "Please use API Key or other form of API consumer identity to call this API.", "PERMISSION_DENIED")
    if "INVALID" in key:
        return gem_error(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT")
    if model == "trigger-429":
        return gem_error(429, "You exceeded your current quota, please check your plan and billing details.",
                         "RESOURCE_EXHAUSTED")
    body = req.json()
    contents = body.get("contents") or []
    if not contents:
        return gem_error(400, "* GenerateContentRequest.contents: contents is not specified\n", "INVALID_ARGUMENT")
    last = contents[-1]
    user_text = "\n".join(p.get("text", "") for p in last.get("parts") or [] if "text" in p)
    fn_responses = [p["functionResponse"] for p in last.get("parts") or [] if "functionResponse" in p]
    decls = [(d["name"], d.get("parameters") or d.get("parametersJsonSchema"))
             for t in body.get("tools") or [] for d in t.get("functionDeclarations") or t.get("function_declarations") or []]
    parts: List[dict] = []
    text = ""
    gen = body.get("generationConfig") or body.get("generation_config") or {}
    schema = gen.get("responseJsonSchema") or gen.get("responseSchema") or gen.get("response_schema")
    if fn_responses:
        text = "Based on the tool results: " + "; ".join(summarize(json.dumps(f.get("response")), 40) for f in fn_responses)
    elif gen.get("responseMimeType") == "application/json" and schema:
        # Structured output (e.g. Gemini CLI's model router): an object of the requested shape.
        text = json.dumps(args_for_schema(schema, "default"))
    elif decls:
        for name, args in plan_tool_calls(decls, user_text, True):
            parts.append({"functionCall": {"name": name, "args": args}})
    else:
        text = reply_text(user_text)
    prompt = sum(ntok("\n".join(p.get("text", "") or json.dumps(p) for p in c.get("parts") or [])) for c in contents)
    si = body.get("systemInstruction") or body.get("system_instruction")
    if si:
        prompt += ntok(json.dumps(si))
    cand_tok = ntok(text) if text else sum(ntok(json.dumps(p)) for p in parts)
    thoughts = 24 + prompt % 17 if "2.5" in model else 0
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": cand_tok,
             "totalTokenCount": prompt + cand_tok + thoughts,
             "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    resp_id = hid("gem", req.body, n=22, alphabet="b62")
    headers = gem_headers(req)
    if method == "generateContent":
        obj = {"candidates": [{"content": {"parts": parts or [{"text": text}], "role": "model"},
                               "finishReason": "STOP", "index": 0}],
               "usageMetadata": usage, "modelVersion": model, "responseId": resp_id}
        return json_response(200, obj, headers, pretty=True, ctype="application/json; charset=UTF-8")
    objs = []
    if parts:
        objs.append({"candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}],
                     "usageMetadata": usage, "modelVersion": model, "responseId": resp_id})
    else:
        pieces = split_words(text)
        groups = ["".join(pieces[i:i + 3]) for i in range(0, len(pieces), 3)]
        for gi, g in enumerate(groups):
            final = gi == len(groups) - 1
            cand: Dict[str, Any] = {"content": {"parts": [{"text": g}], "role": "model"}, "index": 0}
            if final:
                cand["finishReason"] = "STOP"
            u = usage if final else {"promptTokenCount": prompt, "totalTokenCount": prompt + thoughts,
                                     "promptTokensDetails": usage["promptTokensDetails"],
                                     **({"thoughtsTokenCount": thoughts} if thoughts else {})}
            objs.append({"candidates": [cand], "usageMetadata": u, "modelVersion": model, "responseId": resp_id})
    if req.query.get("alt") == "sse":
        chunks = [b"data: " + jdump(o) + b"\r\n\r\n" for o in objs]
        return stream_response(200, "text/event-stream", headers, chunks, state)
    chunks = []
    for i, o in enumerate(objs):
        chunks.append((b"[" if i == 0 else b",\r\n") + jpretty(o) + b"\n")
    chunks.append(b"]")
    return stream_response(200, "application/json; charset=UTF-8", headers, chunks, state)


# --------------------------------------------------------------------------------------------
# Ollama native API


def iso_now() -> str:
    t = time.time_ns()
    dt = _dt.datetime.fromtimestamp(t // 1_000_000_000, tz=_dt.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t % 1_000_000_000:09d}Z"


def ollama_error(status: int, message: str) -> Response:
    return json_response(status, {"error": message}, [], ctype="application/json; charset=utf-8")


def handle_ollama(req: Request, state: State) -> Response:
    body = req.json()
    model = body.get("model") or ""
    if not model:
        return ollama_error(400, "model is required")
    if model.startswith("trigger-404") or model == "missing-model":
        return ollama_error(404, f"model '{model}' not found")
    chat = req.path == "/api/chat"
    tool_calls: List[dict] = []
    if chat:
        messages = body.get("messages") or []
        last = messages[-1] if messages else {}
        user_text = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
        tools = [(t["function"]["name"], t["function"].get("parameters")) for t in body.get("tools") or []
                 if "function" in t]
        if last.get("role") == "tool":
            text = "Based on the tool results: " + summarize(last.get("content") or "", 40)
        elif tools:
            text = ""
            tool_calls = [{"function": {"name": n, "arguments": a}} for n, a in plan_tool_calls(tools, user_text, True)]
        else:
            text = reply_text(user_text)
        prompt_eval = sum(4 + ntok(m.get("content") or "") for m in messages)
    else:
        user_text = body.get("prompt") or ""
        text = reply_text(user_text)
        prompt_eval = ntok(user_text) + (ntok(body["system"]) if body.get("system") else 0) + 10
    eval_count = ntok(text) + sum(ntok(json.dumps(t)) for t in tool_calls)
    timing = {"total_duration": 100_000_000 + eval_count * 20_000_000 + prompt_eval * 500_000,
              "load_duration": 12_345_678, "prompt_eval_count": prompt_eval,
              "prompt_eval_duration": prompt_eval * 500_000, "eval_count": eval_count,
              "eval_duration": eval_count * 20_000_000}
    stream = body.get("stream", True) is not False

    def piece_obj(content: str, done: bool, calls: Optional[List[dict]] = None) -> dict:
        o: Dict[str, Any] = {"model": model, "created_at": iso_now()}
        if chat:
            msg: Dict[str, Any] = {"role": "assistant", "content": content}
            if calls:
                msg["tool_calls"] = calls
            o["message"] = msg
        else:
            o["response"] = content
        o["done"] = done
        return o

    def final_obj(content: str, calls: Optional[List[dict]] = None) -> dict:
        o = piece_obj(content, True, calls)
        o["done_reason"] = "stop"
        # Key order as Ollama writes it: done_reason precedes done.
        o.pop("done")
        o["done"] = True
        if not chat:
            o["context"] = [int(b) for b in hashlib.sha256(req.body).digest()[:16]]
        o.update(timing)
        return o

    if not stream:
        return json_response(200, final_obj(text, tool_calls or None), [], ctype="application/json; charset=utf-8")
    chunks = []
    if tool_calls:
        chunks.append(lambda: jdump(piece_obj("", False, tool_calls)) + b"\n")
    else:
        for p in split_words(text):
            chunks.append(lambda p=p: jdump(piece_obj(p, False)) + b"\n")
    chunks.append(lambda: jdump(final_obj("")) + b"\n")
    return stream_response(200, "application/x-ndjson", [], chunks, state)


def handle_ollama_tags(req: Request, state: State) -> Response:
    models = [{"name": "llama3.2:latest", "model": "llama3.2:latest", "modified_at": "2025-01-01T00:00:00Z",
               "size": 2019393189, "digest": hid("llama3.2", n=64),
               "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                           "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}}]
    return json_response(200, {"models": models}, [], ctype="application/json; charset=utf-8")


# --------------------------------------------------------------------------------------------
# Routing

Handler = Callable[[Request, State], Response]

ROUTES: List[Tuple[str, "re.Pattern[str]", Handler]] = [
    ("POST", re.compile(r"^(/v1|/openai/v1|/api/v1|/openai/deployments/[^/]+|/v1beta/openai)?/chat/completions$"), handle_chat),
    ("POST", re.compile(r"^(/v1|/openai/v1|/openai/deployments/[^/]+)?/completions$"), handle_completions),
    ("POST", re.compile(r"^(/v1|/openai/v1|/api/v1|/openai/deployments/[^/]+)?/embeddings$"), handle_embeddings),
    ("POST", re.compile(r"^(/v1|/openai/v1|/api/v1|/openai)/responses$"), handle_responses),
    ("GET", re.compile(r"^(/v1|/openai/v1|/api/v1)/models$"), handle_models),
    ("POST", re.compile(r"^/v1/messages$"), handle_messages),
    ("POST", re.compile(r"^/v1/messages/count_tokens$"), handle_count_tokens),
    ("POST", re.compile(r"^/(v1beta|v1|v1alpha)/models/[^/]+:(generateContent|streamGenerateContent)$"), handle_gemini),
    ("POST", re.compile(r"^/api/(chat|generate)$"), handle_ollama),
    ("GET", re.compile(r"^/api/tags$"), handle_ollama_tags),
]


def dispatch(req: Request, state: State) -> Response:
    state.request_counter += 1
    path_matched = False
    for method, pat, handler in ROUTES:
        if pat.match(req.path):
            path_matched = True
            if method == req.method:
                try:
                    return handler(req, state)
                except (ValueError, KeyError, TypeError, AttributeError) as e:
                    return oai_error(400, f"Invalid request: {type(e).__name__}: {e}", "invalid_request_error", None, req=req)
    if req.path.startswith("/v1/messages"):
        return ant_error(404, "not_found_error", f"Not found: {req.path}", req)
    if path_matched:
        return oai_error(405, f"Method {req.method} not allowed for {req.path}", "invalid_request_error", None, req=req)
    return oai_error(404, f"Invalid URL ({req.method} {req.path})", "invalid_request_error", None, req=req)
