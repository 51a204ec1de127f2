#!/usr/bin/env bash
# Builds and runs every test: formatting first, then the dev build (unit, integration, durability
# tests against the real `tally`, the Kafka-mode ones on Apache Kafka), schemathesis against
# `tally serve` from its OpenAPI document, then the Address+UB and the Thread
# sanitizer builds of everything but the Beast unit, running their tests too,
# then each libFuzzer target for 20 s.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# Cache hits across clones in different folders (CI clones afresh).
export CCACHE_BASEDIR="$PWD"
jobs=$(nproc)

# Formatting first: it takes a second and fails fast.
echo "== formatting (clang-format, .clang-format)"
unformatted=$(git ls-files '*.h' '*.cc' | xargs clang-format --dry-run 2>&1 | grep -c "warning:" || true)
if [ "$unformatted" != "0" ]; then
  git ls-files '*.h' '*.cc' | xargs clang-format --dry-run 2>&1 | grep "warning:" | sed -n 1,20p
  echo "clang-format: $unformatted places differ (run clang-format -i on them)"
  exit 1
fi
echo "clang-format: clean"

echo "== dev build"
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$jobs"
echo "== dev tests"
ctest --preset dev -j "$jobs"

echo "== API fuzz (schemathesis, from the served OpenAPI document)"
bash scripts/api_fuzz.sh build/dev/app/tally

if [ "${TALLY_SKIP_SANITIZERS:-0}" != "1" ]; then
  echo "== asan build (no Beast units)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  echo "== asan tests"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --preset asan -j "$jobs"

  echo "== tsan build (no Beast units)"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j "$jobs"
  echo "== tsan tests"
  # RocksDB is not instrumented: tests/tsan.supp says why its races are not ours.
  TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tests/tsan.supp" ctest --preset tsan -j "$jobs"
fi

if [ "${TALLY_SKIP_FUZZ:-0}" != "1" ]; then
  echo "== fuzz (libFuzzer, 20 s per target)"
  bash scripts/fuzz.sh -max_total_time=20
fi
