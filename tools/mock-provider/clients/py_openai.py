#!/usr/bin/env python3
"""Scenarios driving the official Python `openai` SDK against the mock (openai-python.oraw)."""
from __future__ import annotations

import json

import openai

from common import OPENAI_KEY, base, check, expect_error, run

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Get the local time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
WEATHER_PROMPT = "What's the weather like in Paris and Tokyo right now?"


def client(**kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=base("/v1"), api_key=OPENAI_KEY, **kw)


def scenario_chat_nonstream():
    r = client().chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "You are a terse assistant."},
                  {"role": "user", "content": "Say hello to the OISP sensor."}],
        temperature=0.2, max_tokens=64)
    check(r.choices[0].message.content.startswith("This is a mock reply"), r.choices[0].message.content)
    check(r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, "usage sums")
    check(r.model == "gpt-4o-mini-2024-07-18", r.model)
    return f"{r.id} usage={r.usage.prompt_tokens}+{r.usage.completion_tokens}"


def scenario_chat_stream_include_usage():
    stream = client().chat.completions.create(
        model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Stream me a short sentence about eBPF."}])
    text, usage, n = "", None, 0
    for chunk in stream:
        n += 1
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage:
            usage = chunk.usage
    check(text.startswith("This is a mock reply"), text)
    check(usage is not None and usage.completion_tokens > 0, "final usage chunk")
    return f"{n} chunks, usage={usage.prompt_tokens}+{usage.completion_tokens}"


def scenario_tools_nonstream_parallel():
    r = client().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": WEATHER_PROMPT}],
                                         tools=[WEATHER_TOOL], tool_choice="auto")
    msg = r.choices[0].message
    check(r.choices[0].finish_reason == "tool_calls", r.choices[0].finish_reason)
    calls = msg.tool_calls
    check(len(calls) == 2, f"{len(calls)} tool calls")
    locs = [json.loads(c.function.arguments)["location"] for c in calls]
    check(locs == ["Paris", "Tokyo"], str(locs))
    return ", ".join(f"{c.function.name}({c.function.arguments})" for c in calls)


def scenario_tools_stream_parallel():
    stream = client().chat.completions.create(
        model="gpt-4o", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Weather and local time in Berlin please"}],
        tools=[WEATHER_TOOL, TIME_TOOL], parallel_tool_calls=True)
    calls: dict = {}
    finish = None
    for chunk in stream:
        for ch in chunk.choices:
            for tc in ch.delta.tool_calls or []:
                slot = calls.setdefault(tc.index, {"id": None, "name": "", "args": ""})
                if tc.id:
                    slot["id"] = tc.id
                if tc.function and tc.function.name:
                    slot["name"] += tc.function.name
                if tc.function and tc.function.arguments:
                    slot["args"] += tc.function.arguments
            finish = ch.finish_reason or finish
    check(finish == "tool_calls", str(finish))
    check(len(calls) == 2, f"{len(calls)} calls")
    names = [calls[i]["name"] for i in sorted(calls)]
    check(names == ["get_weather", "get_time"], str(names))
    for c in calls.values():
        json.loads(c["args"])
    return ", ".join(f"{c['name']}({c['args']})" for c in calls.values())


def scenario_tools_followup_with_results():
    c = client()
    first = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": WEATHER_PROMPT}],
                                      tools=[WEATHER_TOOL])
    calls = first.choices[0].message.tool_calls
    messages = [{"role": "user", "content": WEATHER_PROMPT},
                {"role": "assistant", "content": None,
                 "tool_calls": [{"id": tc.id, "type": "function",
                                 "function": {"name": tc.function.name, "arguments": tc.function.arguments}}
                                for tc in calls]}]
    for tc in calls:
        loc = json.loads(tc.function.arguments)["location"]
        messages.append({"role": "tool", "tool_call_id": tc.id,
                         "content": json.dumps({"location": loc, "temperature_c": 18 if loc == "Paris" else 22,
                                                "conditions": "cloudy"})})
    r = c.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    check(r.choices[0].finish_reason == "stop", r.choices[0].finish_reason)
    check(r.choices[0].message.content.startswith("Based on the tool results"), r.choices[0].message.content)
    return r.choices[0].message.content


def scenario_responses_nonstream():
    r = client().responses.create(model="gpt-4.1", instructions="Answer in one sentence.",
                                  input="What is a TLS library boundary?")
    check(r.status == "completed", r.status)
    check(r.output_text.startswith("This is a mock reply"), r.output_text)
    check(r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens, "usage")
    return f"{r.id[:16]}... {r.output_text!r}"


def scenario_responses_stream():
    stream = client().responses.create(
        model="gpt-4.1", stream=True,
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Stream a haiku about packets."}]}])
    types, text, final = [], "", None
    for ev in stream:
        types.append(ev.type)
        if ev.type == "response.output_text.delta":
            text += ev.delta
        elif ev.type == "response.completed":
            final = ev.response
    check(types[0] == "response.created" and types[-1] == "response.completed", str(types))
    check(final is not None and final.output_text == text, "final text")
    return f"{len(types)} events"


def scenario_responses_stream_function_call():
    tool = {"type": "function", "name": "get_weather", "description": "Weather for a city",
            "parameters": WEATHER_TOOL["function"]["parameters"], "strict": True}
    with client().responses.stream(model="gpt-4.1", input="What's the weather in Oslo?", tools=[tool]) as stream:
        deltas = 0
        for ev in stream:
            if ev.type == "response.function_call_arguments.delta":
                deltas += 1
        final = stream.get_final_response()
    calls = [o for o in final.output if o.type == "function_call"]
    check(len(calls) == 1 and json.loads(calls[0].arguments)["location"] == "Oslo", str(calls))
    # Send the tool output back (function_call_output item).
    r = client().responses.create(model="gpt-4.1", tools=[tool], input=[
        {"role": "user", "content": "What's the weather in Oslo?"},
        {"type": "function_call", "call_id": calls[0].call_id, "name": calls[0].name, "arguments": calls[0].arguments},
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": '{"temperature_c": 4}'}])
    check(r.output_text.startswith("Based on the tool results"), r.output_text)
    return f"{deltas} argument deltas; follow-up: {r.output_text!r}"


def scenario_embeddings_default_base64():
    r = client().embeddings.create(model="text-embedding-3-small", input=["hello world", "oisp sensor"])
    check(len(r.data) == 2 and len(r.data[0].embedding) == 1536, "two 1536-d vectors")
    check(isinstance(r.data[0].embedding[0], float), "decoded floats")
    return f"dims={len(r.data[0].embedding)} usage={r.usage.total_tokens}"


def scenario_embeddings_float():
    r = client().embeddings.create(model="text-embedding-3-small", input="plain floats please",
                                   encoding_format="float", dimensions=256)
    check(len(r.data[0].embedding) == 256, "256 dims")
    return f"dims={len(r.data[0].embedding)}"


def scenario_legacy_completions():
    r = client().completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon a time", max_tokens=32)
    check(r.choices[0].text.strip().startswith("This is a mock reply"), r.choices[0].text)
    return r.choices[0].text.strip()


def scenario_models_list():
    ids = [m.id for m in client().models.list()]
    check("gpt-4o-mini" in ids, str(ids))
    return f"{len(ids)} models"


def scenario_error_429_rate_limit():
    e = expect_error(openai.RateLimitError, client(max_retries=0).chat.completions.create,
                     model="trigger-429", messages=[{"role": "user", "content": "hi"}])
    check(e.status_code == 429 and e.code == "rate_limit_exceeded", f"{e.status_code} {e.code}")
    check(e.response.headers.get("retry-after") == "1", "retry-after")
    return f"{type(e).__name__} request_id={e.request_id}"


def scenario_error_401_invalid_key():
    c = openai.OpenAI(base_url=base("/v1"), api_key="sk-proj-INVALIDKEY000000000000000000000000", max_retries=0)
    e = expect_error(openai.AuthenticationError, c.chat.completions.create, model="gpt-4o-mini",
                     messages=[{"role": "user", "content": "hi"}])
    check(e.code == "invalid_api_key", str(e.code))
    return type(e).__name__


def scenario_error_400_invalid_request():
    e = expect_error(openai.BadRequestError, client(max_retries=0).chat.completions.create, model="trigger-400",
                     messages=[{"role": "user", "content": "hi"}], temperature=1.0)
    check(e.param == "temperature", str(e.param))
    return type(e).__name__


if __name__ == "__main__":
    run(globals())
