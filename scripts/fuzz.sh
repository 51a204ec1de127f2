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
for target in command_body_fuzz jwt_fuzz cloud_event_fuzz query_fuzz http_head_fuzz; do
  mkdir -p "$work/$target"
  cp tests/fuzz/corpus/$target/* "$work/$target/"
  echo "== $target ${args[*]}"
  build/fuzz/tests/fuzz/$target -rss_limit_mb=2048 -print_final_stats=1 "${args[@]}" \
    "$work/$target" 2>&1 | grep -E "^(#[0-9]+ +DONE|Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|.*runtime error)" || true
  test "${PIPESTATUS[0]}" -eq 0
done
echo "fuzz: every target ran clean"
