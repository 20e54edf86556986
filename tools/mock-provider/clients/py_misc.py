#!/usr/bin/env python3
"""Connection-shape scenarios with the Python `openai` SDK: keep-alive reuse, concurrency and a
2 MB prompt (keepalive-concurrent.oraw, large-prompt.oraw)."""
from __future__ import annotations

import asyncio
import hashlib

import openai

from common import OPENAI_KEY, base, check, run


def scenario_keepalive_sequential():
    """Four requests of different kinds through one client: one pooled HTTP/1.1 connection."""
    c = openai.OpenAI(base_url=base("/v1"), api_key=OPENAI_KEY)
    a = c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "First on this connection"}])
    text = ""
    for ch in c.chat.completions.create(model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
                                        messages=[{"role": "user", "content": "Second, streamed"}]):
        if ch.choices and ch.choices[0].delta.content:
            text += ch.choices[0].delta.content
    e = c.embeddings.create(model="text-embedding-3-small", input="third: embeddings")
    m = c.responses.create(model="gpt-4.1", input="Fourth: responses API")
    check(a.choices[0].message.content.startswith("This is") and text.startswith("This is"), "texts")
    check(len(e.data[0].embedding) == 1536 and m.output_text.startswith("This is"), "embeddings/responses")
    return "4 requests"


def scenario_concurrent_5():
    """Five requests in flight at once from one process (AsyncOpenAI: five HTTP/1.1 connections)."""

    async def go():
        c = openai.AsyncOpenAI(base_url=base("/v1"), api_key=OPENAI_KEY)

        async def one(i: int) -> str:
            if i % 2:
                out = ""
                stream = await c.chat.completions.create(
                    model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
                    messages=[{"role": "user", "content": f"Concurrent request number {i}"}])
                async for ch in stream:
                    if ch.choices and ch.choices[0].delta.content:
                        out += ch.choices[0].delta.content
                return out
            r = await c.chat.completions.create(model="gpt-4o-mini",
                                                messages=[{"role": "user", "content": f"Concurrent request number {i}"}])
            return r.choices[0].message.content

        results = await asyncio.gather(*(one(i) for i in range(5)))
        await c.close()
        return results

    results = asyncio.run(go())
    for i, r in enumerate(results):
        check(f"number {i}" in r, r)
    return "5 concurrent ok"


def big_prompt(size: int) -> str:
    """Deterministic ~size-byte text: numbered lines with a hash so nothing is trivially repetitive."""
    lines = []
    total = 0
    i = 0
    while total < size:
        line = f"Line {i:06d}: telemetry record {hashlib.sha1(str(i).encode()).hexdigest()} lorem ipsum dolor sit amet.\n"
        lines.append(line)
        total += len(line)
        i += 1
    return "".join(lines)[:size]


def scenario_large_prompt_2mb():
    prompt = "Summarize this log.\n" + big_prompt(2 * 1024 * 1024)
    r = openai.OpenAI(base_url=base("/v1"), api_key=OPENAI_KEY, timeout=120).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}])
    check("-byte prompt" in r.choices[0].message.content, r.choices[0].message.content)
    check(r.usage.prompt_tokens > 500_000, str(r.usage.prompt_tokens))
    return f"prompt={len(prompt)} bytes usage={r.usage.prompt_tokens}+{r.usage.completion_tokens}"


if __name__ == "__main__":
    run(globals())
