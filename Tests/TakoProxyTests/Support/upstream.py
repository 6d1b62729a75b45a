#!/usr/bin/env python3
"""A small real upstream app for the proxy tests.

usage: upstream.py NAME   -- listens on 127.0.0.1, a free port; prints "READY <port>".
  any path        -> 200 JSON {app, method, path, headers, body_bytes, body_sha256,
                     connection_request (how many requests this TCP connection has served)}
  /sse            -> text/event-stream, three events, each flushed as it is written
  /bytes/N        -> 200 with N bytes of body (streamed in 64 KiB chunks)
  /status/N       -> that status code
  /sleep/MS       -> answers after MS milliseconds (a slow app)
  /bad-framing    -> a response with two different Content-Lengths (a broken app)
  /__seen         -> JSON list of every "METHOD target" received so far (smuggling checks)
  /__sent         -> how many /bytes/ body bytes this upstream has written so far
  /ws             -> with Upgrade: websocket, 101 and then echoes every byte until EOF;
                     without it, 426
Request bodies are read whole (Content-Length or chunked) and only hashed.
"""
import base64
import hashlib
import json
import time
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = sys.argv[1]
SEEN = []  # every request target this upstream received, for /__seen
SENT = [0]  # /bytes/ body bytes written so far, for /__sent (back-pressure checks)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        digest = hashlib.sha256()
        total = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                remaining = size
                while remaining:
                    chunk = self.rfile.read(min(remaining, 65536))
                    digest.update(chunk)
                    total += len(chunk)
                    remaining -= len(chunk)
                self.rfile.readline()
        else:
            remaining = int(self.headers.get("Content-Length", "0"))
            while remaining:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    break
                digest.update(chunk)
                total += len(chunk)
                remaining -= len(chunk)
        return total, digest.hexdigest()

    def handle_any(self):
        # One handler object serves one TCP connection: this counts requests on it.
        self.served = getattr(self, "served", 0) + 1
        if self.path in ("/__seen", "/__sent"):
            body = json.dumps(SEEN if self.path == "/__seen" else SENT[0]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        SEEN.append(f"{self.command} {self.path}")
        if self.path == "/ws":
            return self.echo_tunnel()
        if self.path.startswith("/together/"):
            # The head and the first `first` body bytes in one write, the rest a moment later:
            # the proxy sends a small body that came with its head along with it.
            _, _, size, first = self.path.split("/")
            body = bytes(b"0123456789"[i % 10] for i in range(int(size)))
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body)
            self.wfile.write(head + body[: int(first)])
            self.wfile.flush()
            if int(first) < len(body):
                time.sleep(0.05)
                self.wfile.write(body[int(first):])
            return
        if self.path == "/bad-framing":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello, smuggled")
            self.wfile.flush()
            self.close_connection = True
            return
        total, sha = self.read_body()
        if self.path == "/sse":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(3):
                data = f"data: event {i}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path.startswith("/bytes/"):
            size = int(self.path.split("/")[2])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            block = b"x" * 65536
            while size:
                piece = block[: min(size, len(block))]
                self.wfile.write(piece)
                SENT[0] += len(piece)
                size -= len(piece)
            return
        status = 200
        if self.path.startswith("/sleep/"):
            time.sleep(int(self.path.split("/")[2]) / 1000)
        if self.path.startswith("/status/"):
            status = int(self.path.split("/")[2])
        body = json.dumps({
            "app": NAME, "method": self.command, "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_bytes": total, "body_sha256": sha, "connection_request": self.served,
        }).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "keep-alive, X-Secret-Hop")
        self.send_header("X-Secret-Hop", "must not reach the client")
        self.send_header("Keep-Alive", "timeout=5")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def echo_tunnel(self):
        if self.headers.get("Upgrade", "").lower() != "websocket" or "upgrade" not in self.headers.get("Connection", "").lower():
            self.send_response(426)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        while True:
            data = self.rfile.read1(65536)
            if not data:
                break
            self.wfile.write(data)
            self.wfile.flush()
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(f"READY {server.server_address[1]}", flush=True)
server.serve_forever()
