#!/usr/bin/env python3
"""An independent WebSocket client (PyPI `websockets`) for testing oisp-sensor's WebSocket sink.

    ws_client.py URL --count N --out FILE   receive N text frames, write each as one line, close
    ws_client.py URL --stall SECS           connect with a tiny receive buffer, read nothing for
                                            SECS, then drain until the server closes
    ws_client.py URL --expect-status CODE   the handshake must be refused with HTTP CODE
    ws_client.py URL --clients K --count N  K connections at once (threads), each receiving N
                                            frames; prints `connected` when all are open

Prints `connected` once the handshake is done (the caller waits for it), and a last line
`received N`, `closed CODE REASON after N` or `refused CODE`. Exit status 0 when the run went
as asked, 1 otherwise (with the reason on standard error).
"""

import argparse
import socket
import sys
import threading
import time
from urllib.parse import urlparse

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--count", type=int)
    p.add_argument("--out")
    p.add_argument("--stall", type=float)
    p.add_argument("--expect-status", type=int)
    p.add_argument("--clients", type=int)
    p.add_argument("--timeout", type=float, default=30.0)
    a = p.parse_args()

    if a.expect_status is not None:
        try:
            with connect(a.url, open_timeout=a.timeout):
                pass
        except InvalidStatus as e:
            code = e.response.status_code
            print(f"refused {code}", flush=True)
            return 0 if code == a.expect_status else 1
        print("connected", flush=True)
        print(f"expected HTTP {a.expect_status}, the handshake succeeded", file=sys.stderr)
        return 1

    if a.clients:
        return many(a)

    sock = None
    if a.stall is not None:
        u = urlparse(a.url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((u.hostname, u.port))
    # max_queue=1: the library stops reading the socket when one frame waits, so a client that
    # does not call recv() applies TCP back-pressure like a slow UI would.
    with connect(a.url, sock=sock, open_timeout=a.timeout, max_queue=1 if sock else 16,
                 max_size=None) as ws:
        print("connected", flush=True)
        n = 0
        if a.stall is not None:
            time.sleep(a.stall)
            try:
                while True:
                    ws.recv(timeout=a.timeout)
                    n += 1
            except ConnectionClosed as e:
                rcvd = e.rcvd
                code = rcvd.code if rcvd else 1006
                reason = rcvd.reason if rcvd else ""
                print(f"closed {code} {reason} after {n}", flush=True)
                return 0
            except TimeoutError:
                print(f"still open after {n} frames", file=sys.stderr)
                return 1
        out = open(a.out, "w") if a.out else None
        while n < a.count:
            msg = ws.recv(timeout=a.timeout)
            if not isinstance(msg, str):
                print("binary frame received", file=sys.stderr)
                return 1
            if out:
                out.write(msg + "\n")
            n += 1
        if out:
            out.close()
        print(f"received {n}", flush=True)
    return 0


def many(a):
    conns = [connect(a.url, open_timeout=a.timeout, max_size=None) for _ in range(a.clients)]
    print("connected", flush=True)
    counts = [0] * a.clients
    errors = []

    def read(i, ws):
        try:
            while counts[i] < a.count:
                ws.recv(timeout=a.timeout)
                counts[i] += 1
        except Exception as e:  # reported below with the client number
            errors.append(f"client {i}: {e!r}")
        finally:
            ws.close()

    threads = [threading.Thread(target=read, args=(i, ws)) for i, ws in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    print(f"received {sum(counts)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
