#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang 14 with Address and
# UB sanitizers) and runs each from its seed corpus (tests/fuzz/corpus/).
#
#   scripts/fuzz.sh                 each target for 20 s (what CI runs)
#   scripts/fuzz.sh -runs=10000000  each target for ten million inputs
#
# Arguments are passed to every target. New inputs found go to a scratch
# copy of the corpus, not to the repository. A crash, leak or UB report
# stops the script with the target's exit code.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_BASEDIR="$PWD"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"

args=("$@")
[ ${#args[@]} -eq 0 ] && args=(-max_total_time=20)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for target in command_body_fuzz jwt_fuzz cloud_event_fuzz event_codec_fuzz query_fuzz http_head_fuzz; do
  mkdir -p "$work/$target"
  cp tests/fuzz/corpus/$target/* "$work/$target/"
  echo "== $target ${args[*]}"
  status=0
  build/fuzz/tests/fuzz/$target -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/$target-" "${args[@]}" "$work/$target" >"$work/$target.log" 2>&1 ||
    status=$?
  grep -E "^(Done|stat::number_of_executed_units)" "$work/$target.log" || true
  if [ "$status" -ne 0 ]; then
    # What it found, so that it can be reproduced from CI's output alone.
    grep -E "ERROR|runtime error|SUMMARY|^    #[0-9]+ " "$work/$target.log" | cut -c1-300 | head -30
    for crash in "$work/$target"-*; do
      [ -f "$crash" ] || continue
      echo "input ($crash), base64:"
      base64 -w0 "$crash"
      echo
    done
    echo "fuzz: $target failed (exit $status)"
    exit 1
  fi
done
echo "fuzz: every target ran clean"
