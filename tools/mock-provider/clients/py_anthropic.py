#!/usr/bin/env python3
"""Scenarios driving the official Python `anthropic` SDK against the mock (anthropic-python.oraw)."""
from __future__ import annotations

import json

import anthropic

from common import ANTHROPIC_KEY, base, check, expect_error, run

MODEL = "claude-sonnet-4-6"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"},
                                                      "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                     "required": ["location"]},
}
WEATHER_PROMPT = "What's the weather in Paris and Lyon today?"


def client(**kw) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base(), api_key=ANTHROPIC_KEY, **kw)


def scenario_messages_nonstream():
    m = client().messages.create(model=MODEL, max_tokens=256, system="You are a concise assistant.",
                                 messages=[{"role": "user", "content": "Say hello to the OISP sensor."}])
    check(m.stop_reason == "end_turn", m.stop_reason)
    check(m.content[0].type == "text" and m.content[0].text.startswith("This is a mock reply"), str(m.content))
    return f"{m.id} usage={m.usage.input_tokens}+{m.usage.output_tokens}"


def scenario_messages_stream():
    with client().messages.stream(model="claude-haiku-4-5", max_tokens=256,
                                  messages=[{"role": "user", "content": "Stream a sentence about uprobes."}]) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    check(text.startswith("This is a mock reply") and final.content[0].text == text, text)
    check(final.usage.output_tokens > 0, "usage from message_delta")
    return f"{len(text)} chars, usage={final.usage.input_tokens}+{final.usage.output_tokens}"


def scenario_tool_use_and_followup():
    c = client()
    m = c.messages.create(model=MODEL, max_tokens=512, tools=[WEATHER_TOOL],
                          messages=[{"role": "user", "content": WEATHER_PROMPT}])
    check(m.stop_reason == "tool_use", m.stop_reason)
    uses = [b for b in m.content if b.type == "tool_use"]
    check([u.input["location"] for u in uses] == ["Paris", "Lyon"], str(uses))
    results = [{"type": "tool_result", "tool_use_id": u.id,
                "content": json.dumps({"location": u.input["location"], "temperature_c": 17})} for u in uses]
    m2 = c.messages.create(model=MODEL, max_tokens=512, tools=[WEATHER_TOOL], messages=[
        {"role": "user", "content": WEATHER_PROMPT},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]},
        {"role": "user", "content": results}])
    check(m2.stop_reason == "end_turn" and m2.content[0].text.startswith("Based on the tool results"), str(m2.content))
    return f"{len(uses)} tool_use blocks; follow-up: {m2.content[0].text[:60]!r}"


def scenario_tool_use_stream():
    with client().messages.stream(model=MODEL, max_tokens=512, tools=[WEATHER_TOOL],
                                  messages=[{"role": "user", "content": "Weather in Madrid please"}]) as s:
        kinds = [ev.type for ev in s]
        final = s.get_final_message()
    uses = [b for b in final.content if b.type == "tool_use"]
    check(len(uses) == 1 and uses[0].input == {"location": "Madrid"}, str(final.content))
    check("input_json" in kinds or "content_block_delta" in kinds, str(set(kinds)))
    return f"{len(kinds)} events, input={uses[0].input}"


def scenario_thinking_stream():
    with client().messages.stream(model=MODEL, max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 2048},
                                  messages=[{"role": "user", "content": "Is 17 a prime number?"}]) as s:
        kinds = set()
        for ev in s:
            if ev.type == "content_block_delta":
                kinds.add(ev.delta.type)
        final = s.get_final_message()
    check(final.content[0].type == "thinking" and final.content[0].signature, str(final.content[0]))
    check({"thinking_delta", "signature_delta", "text_delta"} <= kinds, str(kinds))
    return f"delta kinds={sorted(kinds)}"


def scenario_thinking_nonstream():
    m = client().messages.create(model=MODEL, max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 1024},
                                 messages=[{"role": "user", "content": "Name a prime above 100."}])
    check([b.type for b in m.content] == ["thinking", "text"], str([b.type for b in m.content]))
    return f"thinking={m.content[0].thinking[:40]!r}"


def scenario_prompt_caching():
    system = [{"type": "text", "text": "You are the OISP documentation bot. " + "Reference manual text. " * 200,
               "cache_control": {"type": "ephemeral"}}]
    c = client()
    a = c.messages.create(model=MODEL, max_tokens=128, system=system,
                          messages=[{"role": "user", "content": "What is OISP?"}])
    b = c.messages.create(model=MODEL, max_tokens=128, system=system,
                          messages=[{"role": "user", "content": "What does the sensor capture?"}])
    check(a.usage.cache_creation_input_tokens > 0 and a.usage.cache_read_input_tokens == 0, str(a.usage))
    check(b.usage.cache_read_input_tokens > 0 and b.usage.cache_creation_input_tokens == 0, str(b.usage))
    return f"created={a.usage.cache_creation_input_tokens} read={b.usage.cache_read_input_tokens}"


def scenario_count_tokens():
    r = client().messages.count_tokens(model=MODEL, tools=[WEATHER_TOOL],
                                       messages=[{"role": "user", "content": "How many tokens is this?"}])
    check(r.input_tokens > 0, str(r))
    return f"input_tokens={r.input_tokens}"


def scenario_error_529_overloaded():
    e = expect_error(anthropic.OverloadedError, client(max_retries=0).messages.create, model="trigger-529",
                     max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    check(e.status_code == 529, str(e.status_code))
    return f"{type(e).__name__} request_id={e.request_id}"


def scenario_error_429_rate_limit():
    e = expect_error(anthropic.RateLimitError, client(max_retries=0).messages.create, model="trigger-429",
                     max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    check(e.response.headers.get("retry-after") == "1", "retry-after")
    return type(e).__name__


if __name__ == "__main__":
    run(globals())
