# A dev app for the tako dev tests: says who it is and what it was given, can answer slowly,
# and can be slow to start.
import http.server, os, sys, time

time.sleep(float(os.environ.get("START_DELAY", "0")))

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(float(self.path.split("=")[-1]))
        if self.path == "/warn":
            print("WARN something looks off", flush=True)
        body = (f"app={os.environ.get('TAKO_APP_NAME')} greeting={os.environ.get('GREETING')} "
                f"env={os.environ.get('ENV')} node_env={os.environ.get('NODE_ENV')} pid={os.getpid()}\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        if self.path != "/_tako/status":
            print("served", self.path, flush=True)

print("listening on", os.environ["PORT"], flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
