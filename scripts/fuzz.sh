#!/usr/bin/env bash
# Fuzzes every parser of outside input with libFuzzer and AddressSanitizer (`make fuzz`).
#
#   FUZZ_SECONDS=60          how long each target runs (default 60)
#   FUZZ_TARGETS="toml dns"  which targets (default: all, see Sources/TakoFuzz/FuzzTarget.swift)
#   FUZZ_JOBS=2              targets run side by side (default 1)
#   FUZZ_RECORD=1            write the results into docs/reliability.md (section "fuzz")
#
# Builds `tako-fuzz` in .build-fuzz (a scratch path of its own, so the normal build is left
# alone), then runs each target on a copy of its seeds in Fuzz/corpus/TARGET. A crash leaves
# its input in Fuzz/crashes/TARGET-crash-* and makes the run fail; replay it with the normal
# build: `swift run tako-fuzz TARGET FILE`, fix it, and add the file to Fuzz/corpus/TARGET as
# `regress-NAME` (FuzzCorpusTests replays every file there in `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"toml routes frames http1 http2 clienthello acme dns tar"}
jobs=${FUZZ_JOBS:-1}
flags=(-c release --product tako-fuzz --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --scratch-path .build-fuzz)

swift build "${flags[@]}"
bin="$(swift build "${flags[@]}" --show-bin-path)/tako-fuzz"
work=$(mktemp -d "${TMPDIR:-/tmp}/tako-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p Fuzz/crashes

run_target() {
  local target=$1
  mkdir -p "$work/$target"
  cp Fuzz/corpus/"$target"/* "$work/$target/"
  # Leak checking is off: Swift's and NIO's process-wide singletons are never freed, by design.
  # A small quarantine and a 4 GB limit: ASan's growth, not Tako's, hit 2 GB on `acme` (see
  # docs/reliability.md).
  TAKO_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:quarantine_size_mb=16 \
    "$bin" "$work/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
    -artifact_prefix="Fuzz/crashes/$target-" -print_final_stats=1 >"$work/$target.log" 2>&1 || true
  local runs corpus crashes
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target.log" | tail -1)
  corpus=$(ls "$work/$target" | wc -l)
  crashes=$(ls Fuzz/crashes 2>/dev/null | grep -c "^$target-" || true)
  echo "| $target | $seconds | ${runs:-?} | $corpus | $crashes |" >"$work/$target.row"
  if [ "$crashes" != 0 ] || grep -q "ERROR: libFuzzer\|ERROR: AddressSanitizer\|Fatal error" "$work/$target.log"; then
    echo "$target: FOUND A CRASH; its input is in Fuzz/crashes/, the log ends:" >&2
    tail -30 "$work/$target.log" >&2
  else
    echo "$target: ${runs:-?} inputs in $seconds s, no crash" >&2
  fi
}

running=0
for target in $targets; do
  run_target "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

{
  echo "### Fuzzing, measured"
  echo
  echo "Written by \`make fuzz\` (FUZZ_SECONDS=$seconds) on $(date -u +%Y-%m-%d): libFuzzer with AddressSanitizer, $(swift --version 2>&1 | head -1 | sed 's/^.*Swift version /Swift /; s/ (.*//'), $(uname -m)."
  echo
  echo "| target | seconds | inputs run | corpus after | crashes |"
  echo "|---|---|---|---|---|"
  for target in $targets; do cat "$work/$target.row"; done
} >"$work/summary.md"
cat "$work/summary.md"
if [ "${FUZZ_RECORD:-0}" = 1 ]; then
  ./scripts/update-section.py fuzz docs/reliability.md <"$work/summary.md"
fi
if ls Fuzz/crashes 2>/dev/null | grep -q .; then exit 1; fi
