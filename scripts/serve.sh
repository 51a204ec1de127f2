#!/usr/bin/env bash
# Builds Tally and runs `tally serve` (the embedded log) on 127.0.0.1:8080,
# printing a ready-to-use admin token for tenant "demo". Ctrl-C stops it.
# Extra arguments go to `tally serve` (for example --test-clock).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# Cache hits across clones in different folders (CI clones afresh).
export CCACHE_BASEDIR="$PWD"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tally
tally=build/release/app/tally
data="${TALLY_DATA:-./tally-data}"

fifo=$(mktemp -u)
mkfifo "$fifo"
"$tally" serve --data "$data" --listen "${TALLY_LISTEN:-127.0.0.1:8080}" "$@" >"$fifo" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; rm -f "$fifo"' INT TERM
read -r line <"$fifo"
echo "$line"
cat "$fifo" &
token=$("$tally" token --data "$data" --tenant demo --role admin --name "Demo Admin" --ttl 7d)
echo
echo "Admin token for tenant 'demo' (valid 7 days):"
echo "  export TOKEN=$token"
echo
wait $pid
rm -f "$fifo"
