#!/usr/bin/env bash
# Runs issue #18's figures on this build and on a baseline, one after the
# other on this machine, and writes benchmarks/RESULTS.md.
#
#   bash benchmarks/run.sh [BASELINE_REF]      (default: HEAD~1)
#
# Both sides are release builds: this tree in build/release, the baseline
# from a worktree of BASELINE_REF in build/baseline (or an existing release
# build directory given as TALLY_BASELINE_BUILD). SECONDS_PER_RUN (10) sets
# each load run's length.
#
# Figures measured so far: the shopping loop (commands/s and p99, 32 client
# threads), the active list's first page with 10 000 sessions open, disk per
# event after compaction. The rest of #18's table (against a bare Beast
# server, rebuild rate, WebSocket fan-out, ready after a restart, 100 000
# open sessions) is listed as not yet measured by this script.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
baseline_ref=${1:-HEAD~1}
secs=${SECONDS_PER_RUN:-10}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}

build_side() {  # the release build of the working directory
  cmake --preset release >/dev/null
  cmake --build --preset release -j"$(nproc)" --target tally load_harness store_size >/dev/null
}
build_side
now_bin=$root/build/release
if [ -n "${TALLY_BASELINE_BUILD:-}" ]; then
  base_bin=$TALLY_BASELINE_BUILD
  baseline_ref="(prebuilt: $TALLY_BASELINE_BUILD)"
else
  wt=$root/build/baseline
  rm -rf "$wt"; git worktree prune
  git worktree add -f --detach "$wt" "$baseline_ref" >/dev/null
  # The baseline runs this tree's measuring tools, so that both sides are
  # measured alike.
  cp benchmarks/load_harness.cc benchmarks/store_size.cc benchmarks/CMakeLists.txt "$wt/benchmarks/"
  (cd "$wt" && CCACHE_BASEDIR=$wt build_side)
  base_bin=$wt/build/release
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$2" | head -1; }
measure() {  # side bin
  local side=$1 bin=$2
  "$bin/benchmarks/load_harness" 32 "$secs" shopping >"$out/$side.shopping" 2>&1
  "$bin/benchmarks/load_harness" 8 "$secs" active_page 10000 >"$out/$side.active" 2>&1
  rm -rf "$out/$side.data"
  TALLY_BENCH_DATA=$out/$side.data "$bin/benchmarks/load_harness" 8 "$secs" shopping \
    >"$out/$side.disk-run" 2>&1
  "$bin/benchmarks/store_size" "$out/$side.data" >"$out/$side.disk" 2>&1
  rm -rf "$out/$side.data"
}
measure baseline "$base_bin"
measure now "$now_bin"

row() {  # label target baseline now
  printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"
}
{
  echo "# Benchmark results (issue #18), written by benchmarks/run.sh"
  echo
  echo "- When: $(date -u '+%Y-%m-%d %H:%M UTC'); this tree: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with changes)'); baseline: $baseline_ref $(git rev-parse --short "${1:-HEAD~1}" 2>/dev/null || true)"
  echo "- Machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); the load generator runs on the same cores"
  echo "- Command: \`bash benchmarks/run.sh ${1:-}\` (SECONDS_PER_RUN=$secs)"
  echo
  echo "| figure | target | baseline | this tree |"
  echo "|---|---|---|---|"
  for side in baseline now; do
    declare "${side}_rate=$(field throughput "$out/$side.shopping")"
    declare "${side}_p99=$(field p99 "$out/$side.shopping")"
    declare "${side}_active=$(field p99 "$out/$side.active")"
    declare "${side}_disk=$(field bytes_per_event "$out/$side.disk")"
  done
  row "shopping loop, durable commands/s (32 threads, embedded log)" "≥ 50 % of a bare Beast server" "$baseline_rate (p99 $baseline_p99 ms)" "$now_rate (p99 $now_p99 ms)"
  row "GET /v1/sessions/active first page, 10 000 open: p99" "≤ 2 ms" "$baseline_active ms" "$now_active ms"
  row "disk per event after compaction" "≤ 300 B" "$baseline_disk B" "$now_disk B"
  row "bare Beast server req/s, the ratio" "—" "not yet measured by this script" ""
  row "p99 at half the rate; dev-kafka ≥ 3×" "≤ 5 ms" "not yet measured by this script" ""
  row "100 000 active sessions: within 10 %, RSS" "≤ 512 MiB" "not yet measured by this script" ""
  row "rebuild, events/s on one core" "≥ 500 000" "not yet measured by this script" ""
  row "event → WebSocket subscriber p99 at 5 000 events/s" "≤ 5 ms" "not yet measured by this script" ""
  row "ready after a restart with 10 M events" "≤ 5 s" "not yet measured by this script" ""
  echo
  echo "## The runs"
  for f in shopping active disk-run disk; do
    for side in baseline now; do
      echo
      echo "### $side: $f"
      echo
      sed 's/^/    /' "$out/$side.$f"
    done
  done
  echo
  echo "Where a target is missed, the profile and what would close it are in"
  echo "benchmarks/results.md (#18's sections) and ../shared/notes/hot-path.md."
} >benchmarks/RESULTS.md
echo "wrote benchmarks/RESULTS.md"
