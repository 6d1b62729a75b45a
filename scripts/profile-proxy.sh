#!/usr/bin/env bash
# Profiles one proxy under the benchmark's load: where its CPU goes (perf, sampled) and which
# system calls it makes per request (strace -c). Reuses the configs ../shared/bench/proxy-bench.sh
# wrote under $BENCH_DIR/run (run `make bench` once first).
#   scripts/profile-proxy.sh tako  [path/to/tako-server]   # or: scripts/profile-proxy.sh nginx
# Knobs: SECONDS_LOAD (10), URL_PATH (/small), CONNS (64), OUT (/tmp/tako-profile),
#        H2=1 (h2load over TLS with 16 connections x 4 streams instead of wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?tako or nginx}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/tako-bench}
RUN=$BENCH_DIR/run
OUT=${OUT:-/tmp/tako-profile}
SECONDS_LOAD=${SECONDS_LOAD:-10}
URL_PATH=${URL_PATH:-/small}
CONNS=${CONNS:-64}
[ -f "$RUN/bench-config.json" ] || { echo "error: $RUN has no configs; run make bench once" >&2; exit 1; }
mkdir -p "$OUT"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

taskset -c 1 nginx -c "$RUN/upstream/nginx.conf" -g 'daemon off;' & pids+=($!)
case $target in
  tako)
    bin=${2:-$(swift build -c release --show-bin-path)/tako-server}
    taskset -c 0 "$bin" proxy --config "$RUN/bench-config.json" & pids+=($!) ;;
  nginx)
    taskset -c 0 nginx -c "$RUN/nginx/nginx.conf" -g 'daemon off;' & pids+=($!) ;;
  *) echo "error: target is tako or nginx" >&2; exit 2 ;;
esac
proxy=${pids[1]}
for _ in $(seq 100); do curl -sf -o /dev/null -H 'Host: app.bench.test' "http://127.0.0.1:18080$URL_PATH" && break; sleep 0.1; done
# The worker, not nginx's master.
[ "$target" = nginx ] && proxy=$(pgrep -P "$proxy" | head -1)

load() {
  if [ "${H2:-0}" = 1 ]; then
    taskset -c 1 h2load -t1 -c16 -m4 -D"$1" --connect-to=127.0.0.1:18443 "https://app.bench.test:18443$URL_PATH" | sed 's/^requests: .* \([0-9]*\) succeeded.*/\1 requests in/'
  else
    taskset -c 1 wrk -t1 -c"$CONNS" -d"$1"s -H 'Host: app.bench.test:18080' "http://127.0.0.1:18080$URL_PATH"
  fi
}
load 2 >/dev/null
ticks() { awk '{print $14+$15}' "/proc/$proxy/stat"; }
before=$(ticks)
load "$SECONDS_LOAD" >"$OUT/$target-wrk.txt" &
loadpid=$!
perf record -F 1999 -g -p "$proxy" -o "$OUT/$target.perf" -- sleep "$SECONDS_LOAD" 2>/dev/null
wait $loadpid
after=$(ticks)
requests=$(awk '/requests in/ {print $1}' "$OUT/$target-wrk.txt")
cpu=$(echo "($after - $before) / $(getconf CLK_TCK)" | bc -l)
printf '%s: %s requests, %.2f CPU-s (sampled run, perf adds overhead)\n' "$target" "$requests" "$cpu" | tee "$OUT/$target-summary.txt"
perf report -i "$OUT/$target.perf" --no-children --sort dso -g none -q 2>/dev/null | head -8 | tee -a "$OUT/$target-summary.txt" || true
perf report -i "$OUT/$target.perf" --no-children --sort sym -g none -q 2>/dev/null | head -40 | swift demangle --simplified | cut -c1-150 >>"$OUT/$target-summary.txt" || true
# System calls per request, from a separate short run (strace slows the proxy a lot).
load 4 >"$OUT/$target-wrk-strace.txt" &
loadpid=$!
timeout -s INT 3 strace -c -f -p "$proxy" -o "$OUT/$target-syscalls.txt" 2>/dev/null || true
wait $loadpid
echo "strace: $OUT/$target-syscalls.txt; perf: $OUT/$target.perf; summary: $OUT/$target-summary.txt"
