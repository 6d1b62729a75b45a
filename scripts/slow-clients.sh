#!/usr/bin/env bash
# Slow and greedy clients against a real tako-server on loopback, for docs/reliability.md:
#
#   1. slowhttptest (Debian) slow headers (slowloris) and slow body (R-U-Dead-Yet), 1000
#      connections each, while a probe fetches the app every 0.2 s: how many probes failed.
#   2. 10,000 idle keep-alive connections (each served one request, then left open): the
#      server's RSS before and with them.
#
#   TAKO_SERVER=path   the binary (default: the debug build, `swift build` first)
#   SLOW_SECONDS=30    length of each slowhttptest run
#   RECORD=1           write the results into docs/reliability.md (section "slow-clients")
#
# Traffic goes to 127.0.0.1 only; every run stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v slowhttptest >/dev/null || { echo "error: slowhttptest is missing; hint: apt-get install slowhttptest" >&2; exit 1; }
server=${TAKO_SERVER:-$(swift build --show-bin-path)/tako-server}
seconds=${SLOW_SECONDS:-30}
[ "$seconds" -ge 10 ] || { echo "error: SLOW_SECONDS must be at least 10: the probe beside each attack runs for SLOW_SECONDS - 5 seconds" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/tako-slow.XXXXXX")
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cat >"$work/config.toml" <<TOML
[server]
http_port = 0
https_port = 0
listen = "127.0.0.1"
data_dir = "$work/data"
socket = "$work/tako.sock"
[tls]
issuer = "none"
TOML
"$server" --config "$work/config.toml" 2>"$work/server.log" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/server.log" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
mkdir -p "$work/release"
cp Tests/TakoServerTests/Fixtures/app.py "$work/release/main.py"
"$server" ctl deploy slow --version v1 --release "$work/release" --route slow.test --instances 2 \
  --route 127.0.0.1 --start "python3 main.py" --socket "$work/tako.sock" >/dev/null

probe() {  # probe SECONDS: fetch every 0.2 s; print "ok failed"
  local end=$((SECONDS + $1)) ok=0 failed=0
  while [ $SECONDS -lt $end ]; do
    if curl -s -o /dev/null -m 3 -w '%{http_code}' -H 'Host: slow.test' "http://127.0.0.1:$port/" | grep -q 200; then
      ok=$((ok + 1)); else failed=$((failed + 1)); fi
    sleep 0.2
  done
  echo "$ok $failed"
}

attack() {  # attack MODE NAME: slowhttptest with 1000 connections, a probe beside it
  local mode=$1 name=$2
  slowhttptest "$mode" -c 1000 -r 200 -i 5 -x 24 -l "$seconds" -p 3 -g -o "$work/$name" \
    -u "http://127.0.0.1:$port/" >"$work/$name.out" 2>&1 &
  local attacker=$!
  sleep 3
  local result; result=$(probe $((seconds - 5)))
  wait "$attacker" || true
  # CSV: Seconds,Closed,Pending,Connected,Service Available (the connection count while
  # its probe is answered, 0 while it is not).
  local connected; connected=$(awk -F, 'NR > 1 && $4 + 0 > max { max = $4 + 0 } END { print max + 0 }' "$work/$name.csv")
  local unavailable; unavailable=$(awk -F, 'NR > 1 && $5 + 0 == 0 { n++ } END { print n + 0 }' "$work/$name.csv")
  echo "| $name | 1000 | $connected | ${result% *} | ${result#* } | $unavailable |"
}

rss() { awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status"; }

rows=$(attack -H "slow headers (slowloris)"; attack -B "slow body (R-U-Dead-Yet)")
before=$(rss)
python3 - "$port" >"$work/idle.out" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
held = []
for _ in range(10000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /_tako/status HTTP/1.1\r\nHost: slow.test\r\n\r\n")
    held.append(s)
for s in held:
    s.recv(65536)
print(len(held), flush=True)
time.sleep(20)
PY
idler=$!
for _ in $(seq 1200); do [ -s "$work/idle.out" ] && break; sleep 0.1; done
held=$(cat "$work/idle.out")
during=$(rss)
available=$(curl -s -o /dev/null -m 3 -w '%{http_code}' -H 'Host: slow.test' "http://127.0.0.1:$port/")
kill "$idler" 2>/dev/null || true

{
  echo "### Slow clients, measured"
  echo
  echo "Written by \`scripts/slow-clients.sh\` on $(date -u +%Y-%m-%d): $(basename "$server") $("$server" --version) ($( [ -z "${TAKO_SERVER:-}" ] && echo "debug build" || echo "$server")), one app with two instances, $(uname -m), $(nproc) cores, slowhttptest $(slowhttptest -h 2>&1 | sed -n 's/.*version //p' | head -1), ${seconds} s per attack. Each attack opens 1000 connections at 200 per second, sending a little every 5 s; a probe fetches the app every 0.2 s beside it."
  echo
  echo "| attack | connections | most open at once | probes answered 200 | probes failed | seconds slowhttptest's own probe found the service unavailable |"
  echo "|---|---|---|---|---|---|"
  echo "$rows"
  echo
  echo "Idle keep-alive connections: $held held open (each after one request); tako-server's RSS $before MiB before, $during MiB with them; a request meanwhile got $available."
} >"$work/summary.md"
cat "$work/summary.md"
if [ "${RECORD:-0}" = 1 ]; then ./scripts/update-section.py slow-clients docs/reliability.md <"$work/summary.md"; fi
