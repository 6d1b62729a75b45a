"""A small app for tako-server's tests. Its behaviour comes from environment variables
(set with `ctl deploy --var`):

MODE=normal        serve (default)
MODE=crash         print to stderr and exit 3 at once
MODE=ignore-term   serve, ignoring SIGTERM
START_DELAY=S      sleep S seconds before listening (a slow starter)
CRASH_AFTER=N      exit 4 after answering N requests
CRASH_AFTER_SECONDS=S  exit 5 S seconds after it starts listening (a crash loop)
HANG_HEALTH_AFTER=S  /_tako/status stops answering S seconds after start

POST reads the whole body and answers {"received": N}.
Paths: /_tako/status, /env/NAME (the variable's value), /sleep/MS, /stream/N (N chunks),
/fds (the descriptors it was started with), /ws (a WebSocket echoing text frames),
anything else -> JSON about the instance.
"""
import json, os, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Descriptors the app was started with (the listing itself takes the lowest free one).
inherited_fds = sorted(os.listdir("/proc/self/fd"), key=int)
mode = os.environ.get("MODE", "normal")
started = time.time()
if mode == "crash":
    print("boom: this release cannot start", file=sys.stderr, flush=True)
    sys.exit(3)
if mode == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep(float(os.environ.get("START_DELAY", "0")))
crash_after = int(os.environ.get("CRASH_AFTER", "0"))
hang_after = float(os.environ.get("HANG_HEALTH_AFTER", "-1"))
crash_after_seconds = float(os.environ.get("CRASH_AFTER_SECONDS", "0"))
if crash_after_seconds:
    def crash_later():
        time.sleep(crash_after_seconds)
        print(f"crashing after {crash_after_seconds} s", file=sys.stderr, flush=True)
        os._exit(5)
    threading.Thread(target=crash_later, daemon=True).start()
served = 0
hung = False
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def websocket(self):
        import base64, hashlib
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        stream = self.rfile
        while True:
            head = stream.read(2)
            if len(head) < 2:
                return
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(stream.read(2), "big")
            elif length == 127:
                length = int.from_bytes(stream.read(8), "big")
            mask = stream.read(4) if head[1] & 0x80 else b"\0\0\0\0"
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(stream.read(length)))
            if opcode == 8:
                return
            if opcode == 1 and length < 126:
                self.wfile.write(bytes([0x81, length]) + payload)
                self.wfile.flush()

    def do_GET(self):
        global served
        if self.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        if self.path == "/_tako/status":
            if hang_after >= 0 and time.time() - started > hang_after:
                global hung
                if not hung:
                    hung = True
                    print("health check hangs from now", flush=True)
                time.sleep(3600)
            return self.reply(200, '{"status":"ok"}')
        if self.path == "/fds":
            return self.reply(200, json.dumps(inherited_fds))
        if self.path.startswith("/env/"):
            return self.reply(200, os.environ.get(self.path[5:], ""), "text/plain")
        if self.path.startswith("/sleep/"):
            time.sleep(int(self.path[7:]) / 1000)
        if self.path.startswith("/stream/"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for index in range(int(self.path[8:])):
                chunk = f"chunk {index}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
            return
        with lock:
            served += 1
            count = served
        self.reply(200, json.dumps({
            "instance": os.environ.get("TAKO_INSTANCE"), "build": os.environ.get("TAKO_BUILD"),
            "pid": os.getpid(), "path": self.path, "served": count,
        }))
        if crash_after and count >= crash_after:
            self.wfile.flush()
            print(f"crashing after {count} requests", file=sys.stderr, flush=True)
            os._exit(4)

    def do_POST(self):
        # Reads the whole body (Content-Length), then answers how much arrived.
        length = int(self.headers.get("Content-Length", "0") or "0")
        received = len(self.rfile.read(length)) if length > 0 else 0
        self.reply(200, json.dumps({"received": received}))

    def log_message(self, *args):
        pass


print(f"listening on {os.environ['HOST']}:{os.environ['PORT']}", flush=True)
ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT"])), Handler).serve_forever()
