#!/usr/bin/env python3
"""WebSocket scenarios: the official openai SDK's Realtime client (`client.realtime.connect`,
which needs the `websockets` package) and a raw `websockets` client speaking the Responses API
over WebSocket (`response.create` messages), against the mock."""
from __future__ import annotations

import json
import ssl
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import OPENAI_KEY, base, check, https_port, run  # noqa: E402

import openai  # noqa: E402
from websockets.sync.client import connect as ws_connect  # noqa: E402

WEATHER_TOOL = {
    "type": "function", "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def client() -> openai.OpenAI:
    return openai.OpenAI(base_url=base("/v1"), api_key=OPENAI_KEY)


def until_done(conn) -> dict:
    """Reads events until response.done; returns the text, tool calls and the done event."""
    text, calls = "", []
    for ev in conn:
        if ev.type in ("response.output_text.delta", "response.output_audio_transcript.delta"):
            text += ev.delta
        elif ev.type == "response.function_call_arguments.done":
            calls.append((ev.call_id, ev.name, ev.arguments))
        elif ev.type == "error":
            raise RuntimeError(f"server error: {ev.error}")
        elif ev.type == "response.done":
            return {"text": text, "calls": calls, "done": ev}
    raise RuntimeError("connection ended before response.done")


def scenario_realtime_text():
    with client().realtime.connect(model="gpt-realtime") as conn:
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"],
                                     "instructions": "You are a terse assistant."})
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "Say hello to the realtime API"}]})
        conn.response.create()
        r = until_done(conn)
    check(r["text"].startswith("This is a mock reply to"), r["text"])
    return r["text"]


def scenario_realtime_function_call():
    # max_size set: the SDK then keeps the websockets default compression (permessage-deflate).
    opts = {"max_size": 16 << 20}
    with client().realtime.connect(model="gpt-realtime", websocket_connection_options=opts) as conn:
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"],
                                     "instructions": "Use tools when asked about weather.",
                                     "tools": [WEATHER_TOOL], "tool_choice": "auto"})
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "What is the weather in Paris?"}]})
        conn.response.create()
        r = until_done(conn)
        check(len(r["calls"]) == 1 and r["calls"][0][1] == "get_weather", str(r["calls"]))
        call_id = r["calls"][0][0]
        conn.conversation.item.create(item={"type": "function_call_output", "call_id": call_id,
                                            "output": json.dumps({"city": "Paris", "temp_c": 18})})
        conn.response.create()
        r2 = until_done(conn)
    check(r2["text"].startswith("Based on the tool results"), r2["text"])
    return f"{r['calls'][0][2]} -> {r2['text']}"


def scenario_realtime_audio_reply():
    with client().realtime.connect(model="gpt-realtime") as conn:
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "Answer out loud please"}]})
        conn.response.create()
        r = until_done(conn)
    check(r["text"].startswith("This is a mock reply to"), r["text"])
    return r["text"]


def scenario_responses_websocket():
    ctx = ssl.create_default_context()
    url = f"wss://localhost:{https_port()}/v1/responses"
    headers = {"Authorization": f"Bearer {OPENAI_KEY}", "OpenAI-Beta": "responses_websockets=2026-02-06"}
    out = []
    with ws_connect(url, ssl=ctx, additional_headers=headers) as ws:
        req = {"type": "response.create", "model": "gpt-4o-mini", "instructions": "Be brief.",
               "input": [{"type": "message", "role": "user",
                          "content": [{"type": "input_text", "text": "What is the weather in Berlin?"}]}],
               "tools": [WEATHER_TOOL], "store": False}
        ws.send(json.dumps(req))
        call = None
        for raw in ws:
            ev = json.loads(raw)
            if ev["type"] == "response.output_item.done" and ev["item"]["type"] == "function_call":
                call = ev["item"]
            if ev["type"] == "response.completed":
                break
        check(call is not None, "no function call")
        req2 = dict(req, input=req["input"] + [call, {"type": "function_call_output", "call_id": call["call_id"],
                                                      "output": "{\"temp_c\": 21}"}])
        ws.send(json.dumps(req2))
        text = ""
        for raw in ws:
            ev = json.loads(raw)
            if ev["type"] == "response.output_text.delta":
                text += ev["delta"]
            if ev["type"] == "response.completed":
                break
        out.append(text)
    check(text.startswith("Based on the tool results"), text)
    return f"{call['arguments']} -> {text}"


if __name__ == "__main__":
    run(globals())
