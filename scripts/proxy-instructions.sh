#!/usr/bin/env bash
# User-space instructions per request of `tako-server proxy` under the benchmark's HTTP/1.1
# load, counted by valgrind's callgrind: a figure that does not drift with the neighbours'
# noise the way CPU time does on a shared machine, so two builds can be compared in minutes.
# It counts instructions, not cycles (no cache misses, no kernel): use it to choose between
# changes, and `make bench` to measure them. Reuses the configs ../shared/bench/proxy-bench.sh
# wrote under $BENCH_DIR/run (run `make bench` once first).
#   scripts/proxy-instructions.sh [path/to/tako-server]
# Knobs: SECONDS_LOAD (8), URL_PATH (/small), CONNS (64), OUT (/tmp/tako-instructions).
# Prints instructions per request, and writes OUT/callgrind.out for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/tako-bench}
RUN=$BENCH_DIR/run
OUT=${OUT:-/tmp/tako-instructions}
SECONDS_LOAD=${SECONDS_LOAD:-8}
URL_PATH=${URL_PATH:-/small}
CONNS=${CONNS:-64}
[ -f "$RUN/bench-config.json" ] || { echo "error: $RUN has no configs; run make bench once" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "error: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
bin=${1:-$(swift build -c release --show-bin-path)/tako-server}
mkdir -p "$OUT"
rm -f "$OUT"/callgrind.out*
# Debian's valgrind cannot read the DWARF 5 the Swift toolchain writes: count a copy without it
# (symbols stay, so functions keep their names).
objcopy --strip-debug "$bin" "$OUT/tako-server"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

taskset -c 1 nginx -c "$RUN/upstream/nginx.conf" -g 'daemon off;' & pids+=($!)
# Instrumentation starts switched off: start-up and warm-up are not counted.
taskset -c 0 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out" \
  "$OUT/tako-server" proxy --config "$RUN/bench-config.json" 2>"$OUT/valgrind.log" & pids+=($!)
proxy=${pids[1]}
ready=0
for _ in $(seq 300); do
  curl -sf -o /dev/null -H 'Host: app.bench.test' "http://127.0.0.1:18080$URL_PATH" && { ready=1; break; }
  sleep 0.2
done
[ "$ready" = 1 ] || { echo "error: the proxy did not answer under valgrind (see $OUT/valgrind.log)" >&2; exit 1; }
load() { taskset -c 1 wrk -t1 -c"$CONNS" -d"$1"s -H 'Host: app.bench.test:18080' "http://127.0.0.1:18080$URL_PATH"; }
load 3 >/dev/null
callgrind_control -i on "$proxy" >/dev/null 2>&1
load "$SECONDS_LOAD" >"$OUT/wrk.txt"
callgrind_control -i off "$proxy" >/dev/null 2>&1
callgrind_control -d "$proxy" >/dev/null 2>&1
requests=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
dump=$(ls -t "$OUT"/callgrind.out.* | head -1)
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
[ -n "$requests" ] && [ "$requests" -gt 0 ] && [ -n "$total" ] || { echo "error: no requests or no counts (see $OUT)" >&2; exit 1; }
printf 'instructions per request: %d (%s requests through %s)\n' $((total / requests)) "$requests" "$bin"
echo "per function: callgrind_annotate $dump | swift demangle --simplified"
