"""WebSocket side of the mock provider (RFC 6455 with RFC 7692 permessage-deflate), for the
OpenAI Realtime API (`/v1/realtime`, GA event names) and the Responses API over WebSocket
(`/v1/responses`: `response.create` messages answered with the Responses stream events).

Hand-rolled on top of `mock.py`'s HTTP/1.1 handler so every byte goes through the recorder.
Deterministic like the rest of the mock: text echoes the prompt, a function call is made when
tools are configured and the prompt names something (`providers.plan_tool_calls`), a
`function_call_output` is answered with "Based on the tool results: ...".
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import struct
import zlib
from typing import Any, Dict, List, Optional, Tuple

import providers

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TAIL = b"\x00\x00\xff\xff"


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def negotiate(offer: str) -> Optional[Tuple[str, int, int]]:
    """(response header value, server window bits, client window bits) if permessage-deflate is
    offered. A client that allows `client_max_window_bits` gets 12-bit windows both ways."""
    for ext in offer.split(","):
        parts = [p.strip() for p in ext.split(";")]
        if parts[0].lower() != "permessage-deflate":
            continue
        if any(p.split("=")[0] == "client_max_window_bits" for p in parts[1:]):
            return "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", 12, 12
        return "permessage-deflate", 15, 15
    return None


class WsConn:
    """Frames on top of an `H1Handler` (its buffer and reads, the connection's recorded writes)."""

    def __init__(self, h1: Any, deflate: Optional[Tuple[str, int, int]]) -> None:
        self.h1 = h1
        self.comp = zlib.compressobj(6, zlib.DEFLATED, -deflate[1]) if deflate else None
        self.decomp = zlib.decompressobj(-15) if deflate else None
        self.closed = False

    def send_frame(self, opcode: int, payload: bytes, rsv1: bool = False) -> None:
        b0 = 0x80 | (0x40 if rsv1 else 0) | opcode
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", b0, n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, 126, n)
        else:
            head = struct.pack("!BBQ", b0, 127, n)
        self.h1.conn.write(head + payload)

    def send_json(self, obj: Any) -> None:
        data = providers.jdump(obj)
        if self.comp is not None:
            c = self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH)
            self.send_frame(0x1, c[:-4] if c.endswith(TAIL) else c, rsv1=True)
        else:
            self.send_frame(0x1, data)

    async def recv(self) -> Optional[Tuple[int, bytes]]:
        """Next data message (opcode, payload) after answering pings; None at close or EOF."""
        parts: List[bytes] = []
        first_op, compressed = 0, False
        while True:
            head = await self.h1.read_exact(2)
            if head is None:
                return None
            b0, b1 = head
            n = b1 & 0x7F
            if n == 126:
                ext = await self.h1.read_exact(2)
                if ext is None:
                    return None
                n = struct.unpack("!H", ext)[0]
            elif n == 127:
                ext = await self.h1.read_exact(8)
                if ext is None:
                    return None
                n = struct.unpack("!Q", ext)[0]
            key = await self.h1.read_exact(4) if b1 & 0x80 else b"\0\0\0\0"
            payload = await self.h1.read_exact(n) if n else b""
            if key is None or payload is None:
                return None
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            op = b0 & 0x0F
            if op == 0x8:
                if not self.closed:
                    self.send_frame(0x8, payload[:2])
                self.closed = True
                return None
            if op == 0x9:
                self.send_frame(0xA, payload)
                continue
            if op == 0xA:
                continue
            if op != 0x0:
                first_op, compressed = op, bool(b0 & 0x40)
            parts.append(payload)
            if b0 & 0x80:
                data = b"".join(parts)
                if compressed and self.decomp is not None:
                    data = self.decomp.decompress(data + TAIL)
                return first_op, data

    def close(self, code: int = 1000) -> None:
        if not self.closed:
            self.closed = True
            self.send_frame(0x8, struct.pack("!H", code))


async def serve(h1: Any, req: providers.Request, state: providers.State) -> None:
    """Answers the upgrade request `req` on `h1` and runs the session until either side closes."""
    key = req.header("sec-websocket-key")
    route = {"/v1/realtime": Realtime, "/v1/responses": ResponsesWs}.get(req.path.rstrip("/"))
    err = providers.oai_auth_error(req)
    if not key or route is None or err is not None:
        status = err.status if err is not None else (400 if not key else 404)
        body = err.body if err is not None else b'{"error":{"message":"no websocket here"}}'
        h1.conn.write(f"HTTP/1.1 {status} Error\r\ncontent-type: application/json\r\n"
                      f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)
        return
    deflate = negotiate(req.header("sec-websocket-extensions") or "")
    head = ["HTTP/1.1 101 Switching Protocols", "upgrade: websocket", "connection: Upgrade",
            f"sec-websocket-accept: {accept_key(key)}",
            f"x-request-id: req_{providers.hid('ws', req.target, n=24)}"]
    if deflate:
        head.append(f"sec-websocket-extensions: {deflate[0]}")
    h1.conn.write(("\r\n".join(head) + "\r\n\r\n").encode())
    ws = WsConn(h1, deflate)
    session = route(ws, req, state)
    await session.start()
    while True:
        msg = await ws.recv()
        if msg is None:
            break
        op, data = msg
        if op != 0x1:
            continue
        try:
            ev = json.loads(data)
        except ValueError:
            ws.send_json({"type": "error", "error": {"type": "invalid_request_error", "message": "invalid JSON"}})
            continue
        await session.handle(ev)
    ws.close()


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(p.get("text") or p.get("transcript") or "" for p in content if isinstance(p, dict))
    return providers.oai_content_text(content)


class Realtime:
    """OpenAI Realtime, GA event names."""

    def __init__(self, ws: WsConn, req: providers.Request, state: providers.State) -> None:
        self.ws, self.state = ws, state
        self.model = req.query.get("model") or "gpt-realtime"
        self.session: Dict[str, Any] = {
            "type": "realtime", "object": "realtime.session", "id": "sess_" + providers.hid("sess", req.target, n=24),
            "model": self.model, "output_modalities": ["audio"], "instructions": "", "tools": [],
            "tool_choice": "auto", "max_output_tokens": "inf"}
        self.items: List[dict] = []
        self.n = 0

    def eid(self) -> str:
        self.n += 1
        return "event_" + providers.hid("ev", self.session["id"], self.n, n=20, alphabet="b62")

    def send(self, typ: str, **fields: Any) -> None:
        self.ws.send_json(dict({"type": typ, "event_id": self.eid()}, **fields))

    async def start(self) -> None:
        self.send("session.created", session=self.session)

    async def handle(self, ev: dict) -> None:
        t = ev.get("type")
        if t == "session.update":
            self.session.update({k: v for k, v in (ev.get("session") or {}).items() if k != "type"})
            self.send("session.updated", session=self.session)
        elif t == "conversation.item.create":
            item = dict(ev.get("item") or {})
            item.setdefault("id", "item_" + providers.hid("item", json.dumps(item), n=20, alphabet="b62"))
            item.setdefault("object", "realtime.item")
            item["status"] = "completed"
            prev = self.items[-1]["id"] if self.items else None
            self.items.append(item)
            self.send("conversation.item.added", previous_item_id=prev, item=item)
            self.send("conversation.item.done", previous_item_id=prev, item=item)
        elif t == "response.create":
            await self.respond(ev.get("response") or {})
        else:
            self.send("error", error={"type": "invalid_request_error", "code": "unknown_event",
                                      "message": f"unknown event type {t!r}", "event_id": ev.get("event_id")})

    async def respond(self, overrides: dict) -> None:
        tools = [(t["name"], t.get("parameters")) for t in overrides.get("tools") or self.session.get("tools") or []
                 if t.get("type") == "function"]
        modalities = overrides.get("output_modalities") or self.session.get("output_modalities") or ["audio"]
        last = self.items[-1] if self.items else {}
        user_text = next((_text(i.get("content")) for i in reversed(self.items)
                          if i.get("type") == "message" and i.get("role") == "user"), "")
        seed = json.dumps(self.items)
        rid = "resp_" + providers.hid("rtresp", seed, n=24, alphabet="b62")
        out: List[dict] = []
        if last.get("type") == "function_call_output" or not tools:
            text = ("Based on the tool results: " + summarize_output(last)) if last.get("type") == "function_call_output" \
                else providers.reply_text(user_text)
            audio = "audio" in modalities
            part = {"type": "output_audio", "transcript": text} if audio else {"type": "output_text", "text": text}
            out.append({"id": "item_" + providers.hid("msg", seed, n=20, alphabet="b62"), "object": "realtime.item",
                        "type": "message", "status": "completed", "role": "assistant", "content": [part]})
        else:
            for i, (name, args) in enumerate(providers.plan_tool_calls(tools, user_text, False)):
                out.append({"id": "item_" + providers.hid("fc", seed, i, n=20, alphabet="b62"), "object": "realtime.item",
                            "type": "function_call", "status": "completed", "name": name,
                            "call_id": "call_" + providers.hid("call", seed, i, n=16, alphabet="b62"),
                            "arguments": json.dumps(args, separators=(",", ":"))})
        base = {"object": "realtime.response", "id": rid, "conversation_id": "conv_" + self.session["id"][5:],
                "output_modalities": modalities, "max_output_tokens": "inf", "audio": None, "usage": None,
                "metadata": None, "status_details": None}
        self.send("response.created", response=dict(base, status="in_progress", output=[]))
        delay = self.state.stream_delay
        for idx, item in enumerate(out):
            await asyncio.sleep(delay)
            self.send("response.output_item.added", response_id=rid, output_index=idx,
                      item=dict(item, status="in_progress", content=[] if item["type"] == "message" else None)
                      if item["type"] == "message" else dict(item, status="in_progress", arguments=""))
            if item["type"] == "message":
                part = item["content"][0]
                self.items.append(item)
                self.send("conversation.item.added", previous_item_id=None, item=dict(item, content=[]))
                audio = part["type"] == "output_audio"
                text = part.get("transcript") if audio else part["text"]
                empty = {"type": part["type"], ("transcript" if audio else "text"): ""}
                self.send("response.content_part.added", response_id=rid, item_id=item["id"], output_index=idx,
                          content_index=0, part=empty)
                for piece in providers.split_words(text):
                    await asyncio.sleep(delay)
                    if audio:
                        pcm = hashlib.sha256(piece.encode()).digest() * 30  # 960 bytes of "audio"
                        self.send("response.output_audio.delta", response_id=rid, item_id=item["id"],
                                  output_index=idx, content_index=0, delta=base64.b64encode(pcm).decode())
                        self.send("response.output_audio_transcript.delta", response_id=rid, item_id=item["id"],
                                  output_index=idx, content_index=0, delta=piece)
                    else:
                        self.send("response.output_text.delta", response_id=rid, item_id=item["id"],
                                  output_index=idx, content_index=0, delta=piece)
                if audio:
                    self.send("response.output_audio.done", response_id=rid, item_id=item["id"], output_index=idx,
                              content_index=0)
                    self.send("response.output_audio_transcript.done", response_id=rid, item_id=item["id"],
                              output_index=idx, content_index=0, transcript=text)
                else:
                    self.send("response.output_text.done", response_id=rid, item_id=item["id"], output_index=idx,
                              content_index=0, text=text)
                self.send("response.content_part.done", response_id=rid, item_id=item["id"], output_index=idx,
                          content_index=0, part=part)
            else:
                self.items.append(item)
                self.send("conversation.item.added", previous_item_id=None, item=dict(item, arguments=""))
                for piece in providers.split_fixed(item["arguments"], 7):
                    await asyncio.sleep(delay)
                    self.send("response.function_call_arguments.delta", response_id=rid, item_id=item["id"],
                              output_index=idx, call_id=item["call_id"], delta=piece)
                self.send("response.function_call_arguments.done", response_id=rid, item_id=item["id"],
                          output_index=idx, call_id=item["call_id"], name=item["name"], arguments=item["arguments"])
            self.send("conversation.item.done", previous_item_id=None, item=item)
            self.send("response.output_item.done", response_id=rid, output_index=idx, item=item)
        in_tok = providers.ntok(seed) + providers.ntok(self.session.get("instructions") or "") + \
            sum(providers.ntok(json.dumps(t)) for t in self.session.get("tools") or [])
        out_tok = sum(providers.ntok(json.dumps(i)) for i in out)
        usage = {"total_tokens": in_tok + out_tok, "input_tokens": in_tok, "output_tokens": out_tok,
                 "input_token_details": {"text_tokens": in_tok, "audio_tokens": 0, "image_tokens": 0,
                                         "cached_tokens": 0,
                                         "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0}},
                 "output_token_details": {"text_tokens": out_tok, "audio_tokens": 0}}
        self.send("response.done", response=dict(base, status="completed", output=out, usage=usage))
        self.send("rate_limits.updated", rate_limits=[
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {"name": "tokens", "limit": 400000, "remaining": 400000 - in_tok - out_tok, "reset_seconds": 0.1}])


def summarize_output(item: dict) -> str:
    return providers.summarize(str(item.get("output")), 40)


class ResponsesWs:
    """The Responses API over WebSocket: each `response.create` is a Responses request body; the
    events are exactly those of the mock's SSE stream for that body, one message each."""

    def __init__(self, ws: WsConn, req: providers.Request, state: providers.State) -> None:
        self.ws, self.req, self.state = ws, req, state

    async def start(self) -> None:
        pass

    async def handle(self, ev: dict) -> None:
        if ev.get("type") != "response.create":
            self.ws.send_json({"type": "error", "status": 400, "error": {
                "type": "invalid_request_error", "code": "unknown_event", "message": f"unknown event {ev.get('type')!r}"}})
            return
        body = {k: v for k, v in ev.items() if k != "type"}
        body["stream"] = True
        if body.get("generate") is False:
            # A prewarm (Codex sends one first): the request is accepted, nothing is generated.
            rid = "resp_" + providers.hid("prewarm", providers.jdump(body), n=48)
            obj = {"id": rid, "object": "response", "created_at": providers.now_s(), "model": body.get("model"),
                   "output": [], "usage": None, "error": None}
            self.ws.send_json({"type": "response.created", "sequence_number": 0,
                               "response": dict(obj, status="in_progress")})
            self.ws.send_json({"type": "response.completed", "sequence_number": 1,
                               "response": dict(obj, status="completed")})
            return
        sub = providers.Request("POST", "/v1/responses", self.req.headers, providers.jdump(body), scheme=self.req.scheme)
        resp = providers.handle_responses(sub, self.state)
        if resp.stream is None:
            obj = json.loads(resp.body or b"{}")
            self.ws.send_json({"type": "error", "status": resp.status, "error": obj.get("error", obj)})
            return
        async for chunk in resp.stream:
            for line in chunk.split(b"\n"):
                if line.startswith(b"data: "):
                    self.ws.send_json(json.loads(line[6:]))
