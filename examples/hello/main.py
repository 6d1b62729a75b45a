"""Tako's hello example: a tiny HTTP app with no dependencies beyond Python 3.

Tako runs it with PORT and HOST set (and ENV, TAKO_BUILD, TAKO_APP_NAME); it answers every
path with a greeting and the build it runs, which is how `make demo` shows a deploy landed.
"""
import http.server
import json
import os

BUILD = os.environ.get("TAKO_BUILD", "dev")
GREETING = os.environ.get("GREETING", "Hello from Tako")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/healthz":
            body = b"ok\n"
            kind = "text/plain"
        else:
            body = (json.dumps({"message": GREETING, "build": BUILD, "path": self.path}) + "\n").encode()
            kind = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        print("%s %s" % (self.address_string(), format % args), flush=True)


server = http.server.ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "3000"))), Handler)
print(f"hello {BUILD} listening on {server.server_address[0]}:{server.server_address[1]}", flush=True)
server.serve_forever()
