#!/usr/bin/env bash
# make bench: Tako's proxy beside nginx (and the direct baseline) in one run of
# ../shared/bench/proxy-bench.sh, then docs/benchmarks.md gets the table, date and machine.
# Knobs pass through: ROUNDS, DURATION, WARMUP, SCENARIOS, TARGETS (default "nginx haproxy caddy tako").
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
[ -f "$SHARED/bench/proxy-bench.sh" ] || { echo "error: $SHARED/bench/proxy-bench.sh not found; set SHARED" >&2; exit 1; }

# The same flags as `make release` (the Makefile passes them): the binary measured is the one installed.
read -r -a release_flags <<<"${RELEASE_FLAGS:--c release -Xswiftc -enforce-exclusivity=unchecked --static-swift-stdlib -Xswiftc -use-ld=lld -Xlinker --no-export-dynamic}"
swift build "${release_flags[@]}" --product tako-server
BIN="$(swift build "${release_flags[@]}" --show-bin-path)/tako-server"

export BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/tako-bench}
export ROUNDS=${ROUNDS:-5} DURATION=${DURATION:-10} WARMUP=${WARMUP:-3}
export SCENARIOS=${SCENARIOS:-"http-small http-16k https-small h2-small http-small-rate"}
# Expanded by the harness, which exports BENCH_CONFIG_JSON before it starts the proxy.
export PROXY_CMD="$BIN proxy --config \$BENCH_CONFIG_JSON"
read -r -a targets <<<"${TARGETS:-nginx haproxy caddy tako}"

# The harness makes its 16 KiB fixture with `base64 | head -c`, which dies of SIGPIPE under its
# own `pipefail` on a first run; making the file first (same content rule) avoids that.
mkdir -p "$BENCH_DIR/www"
if [ "$(stat -c %s "$BENCH_DIR/www/16k" 2>/dev/null || echo 0)" != 16384 ]; then
  (head -c 16384 /dev/urandom | base64 -w0 | head -c 16384 >"$BENCH_DIR/www/16k") || true
fi

bash "$SHARED/bench/proxy-bench.sh" "${targets[@]}"

latest=$(ls -td "$BENCH_DIR"/results/*/ | head -1)
{
  echo "## Proxy"
  echo
  echo "Written by \`make bench\` ($(date -u +%Y-%m-%d)): ../shared/bench/proxy-bench.sh with nginx and"
  echo "\`tako-server proxy\` in the same run, the proxy pinned to one core and the load generator and"
  echo "upstream to the other. Compare ratios to nginx from one run, not absolute numbers across days."
  echo
  echo '```'
  cat "$latest/meta.txt"
  echo '```'
  echo
  cat "$latest/table.md"
} | ./scripts/update-section.py proxy docs/benchmarks.md
echo "wrote the proxy section of docs/benchmarks.md from $latest" >&2
