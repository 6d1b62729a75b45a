"""Traffic through a tako-server while it hands over to its successor, until STOP_FILE exists
(or 120 s pass); then one JSON line to RESULT_FILE: per kind {"total", "ok", "errors",
"samples": [first errors]}. Every request must succeed with 200; a server's
"Connection: close" is obeyed (a new connection for the next request), never an error.

Kinds: keep-alive HTTP, a new connection per request, keep-alive HTTPS and HTTPS with a new
connection (and handshake) per request (verified with CA_FILE), slow requests (/sleep/1500, each on its own connection), and the on-demand app.
Usage: handoff-load.py HTTP_PORT HTTPS_PORT HOST ONDEMAND_HOST SECURE_HOST CA_FILE STOP_FILE RESULT_FILE"""
import http.client, json, os, ssl, sys, threading, time

http_port, https_port, host, ondemand, secure_host, ca_file, stop_file, result_file = sys.argv[1:9]
http_port, https_port = int(http_port), int(https_port)
deadline = time.time() + 120
results = {}
lock = threading.Lock()


def record(kind, ok, error=None):
    with lock:
        entry = results.setdefault(kind, {"total": 0, "ok": 0, "errors": 0, "samples": []})
        entry["total"] += 1
        if ok:
            entry["ok"] += 1
        else:
            entry["errors"] += 1
            if len(entry["samples"]) < 5:
                entry["samples"].append(error)


def running():
    return not os.path.exists(stop_file) and time.time() < deadline


def client(kind, make, name, path, reuse):
    connection = None
    while running():
        phase = "connect"
        try:
            if connection is None:
                connection = make()
                connection.connect()
            phase = "send"
            connection.request("GET", path, headers={"Host": name})
            phase = "response"
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                record(kind, True)
            else:
                record(kind, False, f"status {response.status}")
            if not reuse or response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = None
        except Exception as error:
            # When (wall clock, to set beside the handoffs) and in which step it failed.
            record(kind, False, f"{time.time():.3f} {phase}: {error!r}")
            connection = None


context = ssl.create_default_context(cafile=ca_file)
plain = lambda: http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)


class PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 while verifying the certificate for SECURE_HOST (SNI and name)."""
    def connect(self):
        import socket
        sock = socket.create_connection(("127.0.0.1", https_port), self.timeout)
        self.sock = context.wrap_socket(sock, server_hostname=secure_host)


secure = lambda: PinnedHTTPS(secure_host, https_port, timeout=30, context=context)
threads = [
    threading.Thread(target=client, args=("keepalive", plain, host, "/", True)),
    threading.Thread(target=client, args=("keepalive2", plain, host, "/", True)),
    threading.Thread(target=client, args=("fresh", plain, host, "/", False)),
    threading.Thread(target=client, args=("https", secure, secure_host, "/", True)),
    threading.Thread(target=client, args=("https-fresh", secure, secure_host, "/", False)),
    threading.Thread(target=client, args=("slow", plain, host, "/sleep/1500", False)),
    threading.Thread(target=client, args=("ondemand", plain, ondemand, "/", False)),
]
print("started", flush=True)
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with open(result_file + ".tmp", "w") as out:
    out.write(json.dumps(results) + "\n")
os.rename(result_file + ".tmp", result_file)
