#!/usr/bin/env python3
"""A real webhook receiver for oisp-sensor's webhook sink (Python standard library only).

It accepts POSTs of a JSON array of OISP events, verifies the HMAC-SHA256 signature when a
secret is given, and appends every event it accepts to a JSON Lines file, one event per line,
exactly as received (no deduplication, so at-least-once redelivery shows as duplicates).

    receiver.py --out events.jsonl [--secret S] [--port 0] [--requests requests.jsonl]
                [--fail-status 503 --fail-count 3 [--retry-after VALUE]] [--max-body BYTES]
                [--reply-delay-ms MS]
                [--tls-cert C --tls-key K]

On start it prints one line `listening on http[s]://127.0.0.1:PORT/` to standard output.
Answers: 200 stored; 413 body larger than --max-body; 400 body is not a JSON array of objects with an `event_id`; 401 signature
missing, malformed, wrong, or timestamp outside --max-skew; --fail-status for the first
--fail-count requests (-1: every request), before anything is checked or stored, with a
`Retry-After: VALUE` header when --retry-after is given. Each request is logged (--requests)
with its arrival time `t` (Unix seconds).

Signature scheme (see docs/webhook.md): X-OISP-Signature: sha256=HEX where HEX is
HMAC-SHA256(secret, X-OISP-Timestamp + "." + raw body).
"""

import argparse
import hashlib
import hmac
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret: bytes, headers, body: bytes, max_skew: int, now=None):
    """Returns None when the request is authentic, else the reason it is not."""
    ts = headers.get("X-OISP-Timestamp")
    sig = headers.get("X-OISP-Signature")
    if ts is None or sig is None:
        return "missing X-OISP-Timestamp or X-OISP-Signature"
    if not ts.isdigit():
        return "malformed X-OISP-Timestamp"
    now = time.time() if now is None else now
    if abs(now - int(ts)) > max_skew:
        return "timestamp outside the allowed window"
    expected = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sig):
        return "bad signature"
    return None


class State:
    def __init__(self, args):
        self.args = args
        self.secret = args.secret.encode() if args.secret is not None else None
        self.lock = threading.Lock()
        self.requests_seen = 0
        self.out = open(args.out, "ab")
        os.chmod(args.out, 0o600)
        self.req_log = None
        if args.requests:
            self.req_log = open(args.requests, "ab")
            os.chmod(args.requests, 0o600)

    def log_request(self, status, headers, count, reason):
        if self.req_log is None:
            return
        rec = {
            "t": time.time(),
            "status": status,
            "count": count,
            "reason": reason,
            "headers": {k.lower(): v for k, v in headers.items()},
        }
        self.req_log.write(json.dumps(rec).encode() + b"\n")
        self.req_log.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "oisp-webhook-receiver"

    def log_message(self, fmt, *args):  # quiet: the request log is the record
        pass

    def reply(self, status, text, count=0, extra_headers=()):
        state = self.server.state
        with state.lock:
            state.log_request(status, self.headers, count, text)
        body = (text + "\n").encode()
        self.send_response(status)
        for name, value in extra_headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        state = self.server.state
        args = state.args
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return self.reply(411, "Content-Length required")
        body = self.rfile.read(int(length))
        with state.lock:
            state.requests_seen += 1
            n = state.requests_seen
        if args.fail_status and (args.fail_count < 0 or n <= args.fail_count):
            extra = [("Retry-After", args.retry_after)] if args.retry_after else []
            return self.reply(args.fail_status, f"configured failure {n}", extra_headers=extra)
        if args.max_body and len(body) > args.max_body:
            return self.reply(413, f"body of {len(body)} bytes exceeds {args.max_body}")
        if state.secret is not None:
            reason = verify(state.secret, self.headers, body, args.max_skew)
            if reason is not None:
                return self.reply(401, reason)
        try:
            events = json.loads(body)
        except ValueError as e:
            return self.reply(400, f"body is not JSON: {e}")
        if not isinstance(events, list) or not all(
            isinstance(e, dict) and isinstance(e.get("event_id"), str) for e in events
        ):
            return self.reply(400, "body must be a JSON array of events with an event_id")
        lines = b"".join(json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in events)
        with state.lock:
            state.out.write(lines)
            state.out.flush()  # in the kernel before we answer: survives SIGKILL
        if args.reply_delay_ms:
            # Stored but not yet acknowledged: a kill now makes the sender deliver them again.
            time.sleep(args.reply_delay_ms / 1000)
        self.reply(200, f"stored {len(events)}", len(events))

    def do_GET(self):
        self.reply(405, "POST only")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--out", required=True, help="JSONL file events are appended to")
    p.add_argument("--requests", help="JSONL file with one line per request (status, headers)")
    p.add_argument("--secret", default=os.environ.get("OISP_WEBHOOK_SECRET"),
                   help="verify signatures with this key (default $OISP_WEBHOOK_SECRET)")
    p.add_argument("--max-skew", type=int, default=300, help="seconds (default 300)")
    p.add_argument("--fail-status", type=int, default=0)
    p.add_argument("--fail-count", type=int, default=0, help="-1: every request")
    p.add_argument("--retry-after", help="Retry-After header value sent with the configured failures")
    p.add_argument("--reply-delay-ms", type=int, default=0,
                   help="wait this long between storing a batch and answering 200")
    p.add_argument("--max-body", type=int, default=0, help="bytes; 0: no limit")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    args = p.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    scheme = "http"
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    host, port = server.server_address[:2]
    print(f"listening on {scheme}://{host}:{port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
