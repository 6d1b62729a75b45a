#!/usr/bin/env bash
# make tls-audit: testssl.sh and sslscan (Debian packages) against a real tako-server's HTTPS
# listener, and their findings into the "tls-audit" section of docs/security.md.
#
# The server runs on loopback with the internal issuer (a CA made for the run) and one app
# deployed at audit.test, so the listener is exactly what a deployed app gets.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in testssl sslscan python3 curl; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing; run: sudo apt-get install testssl.sh sslscan" >&2; exit 1; }
done
BIN=${BIN:-$(swift build --show-bin-path)/tako-server}
[ -x "$BIN" ] || swift build --product tako-server

RUN=$(mktemp -d "${TMPDIR:-/tmp}/tako-tls-audit.XXXXXX")
cleanup() { [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$RUN"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port); HTTPS_PORT=$(free_port)
mkdir -p "$RUN/release"
# testssl's HTTP checks grade the app's own headers (the proxy passes them through and adds
# none): the app sends what a careful production app sends. See docs/security.md.
cat >"$RUN/release/main.py" <<'APP'
import http.server, os
HEADERS = {
    "Content-Type": "text/plain", "Strict-Transport-Security": "max-age=31536000",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'",
}
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        for name, value in HEADERS.items(): self.send_header(name, value)
        self.send_header("Content-Length", "3"); self.end_headers(); self.wfile.write(b"ok\n")
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
APP
cat >"$RUN/server-config.toml" <<CONFIG
[server]
http_port = $HTTP_PORT
https_port = $HTTPS_PORT
listen = "127.0.0.1"
data_dir = "$RUN/data"
socket = "$RUN/tako.sock"
[tls]
issuer = "internal"
CONFIG
"$BIN" serve --config "$RUN/server-config.toml" >"$RUN/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do [ -S "$RUN/tako.sock" ] && break; sleep 0.1; done
"$BIN" ctl deploy audit --version audit --release "$RUN/release" --route audit.test --socket "$RUN/tako.sock" >/dev/null
curl -sf --cacert "$RUN/data/ca/ca.crt" --connect-to "audit.test:$HTTPS_PORT:127.0.0.1:$HTTPS_PORT" "https://audit.test:$HTTPS_PORT/" >/dev/null

echo "testssl against https://audit.test:$HTTPS_PORT (a few minutes)" >&2
testssl --quiet --color 0 --warnings off --ip 127.0.0.1 --jsonfile "$RUN/testssl.json" \
  --add-ca "$RUN/data/ca/ca.crt" "https://audit.test:$HTTPS_PORT" >"$RUN/testssl.txt" 2>&1 || true
sslscan --no-colour --sni-name=audit.test "127.0.0.1:$HTTPS_PORT" >"$RUN/sslscan.txt" 2>&1 || true

python3 - "$RUN" "$("$BIN" --version 2>/dev/null || echo unknown)" <<'REPORT' | ./scripts/update-section.py tls-audit docs/security.md
import json, re, subprocess, sys
run, version = sys.argv[1], sys.argv[2]
findings = json.load(open(f"{run}/testssl.json"))
order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN", "INFO", "OK"]
def testssl_version():
    out = subprocess.run(["testssl", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"testssl(?:\.sh)?\s+([0-9][^\s]*)", out)
    return m.group(1) if m else "?"
counts = {s: sum(1 for f in findings if f.get("severity") == s) for s in order}
print("## testssl.sh and sslscan")
print()
print(f"Written by `make tls-audit` on {subprocess.run(['date', '-u', '+%Y-%m-%d'], capture_output=True, text=True).stdout.strip()}: "
      f"testssl.sh {testssl_version()} against a `tako-server` ({version}) HTTPS listener on loopback, internal issuer, one deployed app.")
print()
print("| severity | findings |")
print("|---|---|")
for s in order:
    print(f"| {s} | {counts[s]} |")
print()
notable = [f for f in findings if f.get("severity") in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN")]
print("Every finding of severity LOW or above (MEDIUM or above is the bar; see the notes above):")
print()
if not notable:
    print("- none")
for f in notable:
    print(f"- **{f['severity']}** `{f['id']}`: {f['finding']}")
print()
keep = ("TLS_", "SSL_", "TLS1", "cipher_order", "cipherorder", "FS", "HTTP2", "ALPN", "NPN")
print("Protocols, ALPN and ciphers as testssl.sh saw them:")
print()
print("```")
for f in findings:
    if f["id"].startswith(("SSLv", "TLS1", "ALPN", "NPN", "cipherorder_", "cipher_order", "FS_ECDHE", "FS_TLS12", "cipher-tls")) or f["id"] in ("FS", "TLS_session_ticket"):
        print(f"{f['id']:<28} {f['severity']:<6} {f['finding']}")
print("```")
print()
print("sslscan's accepted ciphers:")
print()
print("```")
for line in open(f"{run}/sslscan.txt"):
    if line.startswith(("Preferred", "Accepted")) or "enabled" in line or "disabled" in line:
        print(line.rstrip())
print("```")
REPORT
echo "wrote the tls-audit section of docs/security.md" >&2
