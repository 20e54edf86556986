#!/usr/bin/env python3
"""A real OTLP receiver for tests, built on the official OpenTelemetry protos.

Serves the OTLP/gRPC LogsService and TraceService and OTLP/HTTP (protobuf, optionally gzip)
POST /v1/logs and /v1/traces, both on 127.0.0.1 with ports chosen by the OS. Every export
request is decoded with the official Python classes and appended to --out as one JSON line
(written before the answer is sent):

    {"signal": "logs"|"traces", "transport": "grpc"|"http", "path": ..., "headers": {...},
     "request": <google.protobuf.json_format.MessageToDict of the Export*ServiceRequest>}

Once listening it prints `READY grpc=PORT http=PORT` on stdout.

--fail unavailable   answer every export with gRPC UNAVAILABLE / HTTP 503 (nothing recorded)
--fail invalid       answer with gRPC INVALID_ARGUMENT / HTTP 400 (nothing recorded)
--fail-while PATH    answer gRPC UNAVAILABLE / HTTP 503 while the file PATH exists (outages)
--retry-after V      send `Retry-After: V` with the HTTP 503 answers of --fail / --fail-while
--partial N          accept, but report N rejected items in partial_success
--tls-cert F --tls-key K   serve both ports over TLS with this PEM certificate chain and key
"""

import argparse
import gzip
import json
import os
import ssl
import sys
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

SIGNALS = {
    "logs": (logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
    "traces": (trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse),
}


class Recorder:
    """Appends decoded requests to the output file (0600), one JSON object per line."""

    def __init__(self, path, fail, fail_while, partial):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.out = os.fdopen(fd, "a", encoding="utf-8")
        self.lock = threading.Lock()
        self._fail = fail
        self.fail_while = fail_while
        self.partial = partial
        self.retry_after = None

    @property
    def fail(self):
        if self.fail_while and os.path.exists(self.fail_while):
            return "unavailable"
        return self._fail

    def record(self, signal, transport, path, headers, request):
        line = json.dumps(
            {
                "signal": signal,
                "transport": transport,
                "path": path,
                "headers": headers,
                "request": MessageToDict(request),
            }
        )
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()

    def response(self, signal):
        resp = SIGNALS[signal][1]()
        if self.partial:
            if signal == "logs":
                resp.partial_success.rejected_log_records = self.partial
            else:
                resp.partial_success.rejected_spans = self.partial
            resp.partial_success.error_message = "test receiver: partial success"
        return resp


def grpc_handler(recorder, signal):
    def export(request, context):
        if recorder.fail == "unavailable":
            context.abort(grpc.StatusCode.UNAVAILABLE, "test receiver: unavailable")
        if recorder.fail == "invalid":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "test receiver: invalid")
        headers = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        path = "/opentelemetry.proto.collector.%s.v1.%s/Export" % (
            "logs" if signal == "logs" else "trace",
            "LogsService" if signal == "logs" else "TraceService",
        )
        recorder.record(signal, "grpc", path, headers, request)
        return recorder.response(signal)

    return export


class LogsServicer(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, recorder):
        self.Export = grpc_handler(recorder, "logs")


class TraceServicer(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, recorder):
        self.Export = grpc_handler(recorder, "traces")


def http_handler_class(recorder):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, body, ctype="application/x-protobuf"):
            self.send_response(status)
            if status == 503 and recorder.retry_after:
                self.send_header("Retry-After", recorder.retry_after)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            signal = {"/v1/logs": "logs", "/v1/traces": "traces"}.get(self.path)
            if signal is None:
                return self.answer(404, b"unknown path", "text/plain")
            if recorder.fail == "unavailable":
                return self.answer(503, b"test receiver: unavailable", "text/plain")
            if recorder.fail == "invalid":
                return self.answer(400, b"test receiver: invalid", "text/plain")
            if self.headers.get("Content-Type") != "application/x-protobuf":
                return self.answer(415, b"expected application/x-protobuf", "text/plain")
            try:
                if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                    body = gzip.decompress(body)
                request = SIGNALS[signal][0]()
                request.ParseFromString(body)
            except Exception as e:  # a bad body is the client's fault: 400, and say why
                return self.answer(400, ("bad request: %s" % e).encode(), "text/plain")
            headers = {k.lower(): v for k, v in self.headers.items()}
            recorder.record(signal, "http", self.path, headers, request)
            return self.answer(200, recorder.response(signal).SerializeToString())

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="JSON Lines file the decoded requests go to")
    ap.add_argument("--fail", choices=["unavailable", "invalid"], help="answer every export with this failure")
    ap.add_argument("--fail-while", help="answer UNAVAILABLE/503 while this file exists")
    ap.add_argument("--partial", type=int, default=0, help="report this many rejected items")
    ap.add_argument("--retry-after", help="Retry-After value of the HTTP 503 answers")
    ap.add_argument("--tls-cert", help="PEM certificate chain: serve TLS on both ports")
    ap.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    recorder = Recorder(args.out, args.fail, args.fail_while, args.partial)
    recorder.retry_after = args.retry_after
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(LogsServicer(recorder), server)
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(TraceServicer(recorder), server)
    if args.tls_cert:
        with open(args.tls_cert, "rb") as c, open(args.tls_key, "rb") as k:
            creds = grpc.ssl_server_credentials([(k.read(), c.read())])
        grpc_port = server.add_secure_port("127.0.0.1:0", creds)
    else:
        grpc_port = server.add_insecure_port("127.0.0.1:0")
    server.start()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), http_handler_class(recorder))
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    print("READY grpc=%d http=%d" % (grpc_port, httpd.server_address[1]), flush=True)
    try:
        # Runs until killed or until stdin closes (the test process went away).
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    httpd.shutdown()
    server.stop(0)


if __name__ == "__main__":
    main()
