#!/usr/bin/env bash
# The API fuzzed from its own OpenAPI document: schemathesis (PyPI, pinned,
# in a virtualenv under ~/.cache/tally/) against a fresh `tally serve`, as an
# admin, every operation, with generated valid and invalid inputs. It checks
# that no answer is a 5xx, that every answer has a documented status, content
# type, headers and schema, that invalid inputs are refused, that Allow
# lists what the document lists, and, after the run, that the server still
# answers. Prints schemathesis' summary (the cases it ran) and exits non-zero
# on any failure.
#
#   scripts/api_fuzz.sh [TALLY_BINARY]     (default build/dev/app/tally)
#   TALLY_FUZZ_EXAMPLES=50 TALLY_FUZZ_SEED=1 change the cases per operation and the seed
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
venv="$HOME/.cache/tally/schemathesis-$version"
if [ "$("$venv/bin/st" --version 2>/dev/null)" != "st, version $version" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version"
fi
[ "${1:-}" = "--install" ] && exit 0

tally=$(realpath "${1:-build/dev/app/tally}")
data=$(mktemp -d)
log="$data/serve.log"
export TALLY_JWT_SECRET="api-fuzz-secret-api-fuzz-secret"
"$tally" serve --data "$data/tally" --listen 127.0.0.1:0 --test-clock >"$data/out" 2>"$log" &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$data/out" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$data/out" | head -1)
[ -n "$url" ] || { echo "api_fuzz: tally serve did not start" >&2; cat "$log" >&2; exit 1; }
token=$("$tally" token --role admin --tenant fuzz --sub fuzzer | tail -1)

status=0
# From the run's own folder: schemathesis keeps a cache where it runs. One
# worker: with two, hypothesis parses lambdas' source in two threads at once
# and CPython 3.11's ast.parse fails ("AST constructor recursion depth
# mismatch", CI on 2026-12-07); one takes the same minute here.
cd "$data"
"$venv/bin/st" run "$url/v1/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,unsupported_method,allow_header_conformance,missing_required_header \
  --max-examples "${TALLY_FUZZ_EXAMPLES:-50}" --seed "${TALLY_FUZZ_SEED:-20261207}" \
  --workers 1 --no-color --warnings off --report-dir "$data/report" \
  --generation-database none || status=$?

# Still up, and still answering.
if ! curl -sf "$url/healthz" >/dev/null; then
  echo "api_fuzz: the server does not answer after the run" >&2
  tail -20 "$log" >&2
  status=1
fi
if ! kill -0 "$pid" 2>/dev/null; then
  echo "api_fuzz: the server died during the run" >&2
  status=1
fi
exit $status
