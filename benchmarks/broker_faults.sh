#!/usr/bin/env bash
# Brokers killed under load (tests/integration/broker_faults_test.cc), RUNS
# times (default 3): prints each run's figures — commands acknowledged,
# refused then retried with the same Idempotency-Key, lost, duplicated, and
# how long the partition whose leader was killed took to take commands again
# (the first and the second kill). Uses the dev build's test binary.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
bin=build/dev/tests/broker_faults_test
[ -x "$bin" ] || { echo "build the dev preset first (cmake --build --preset dev)" >&2; exit 1; }
nproc_line="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo "machine: $nproc_line; Apache Kafka $(sed -n 's/^version=//p' scripts/kafka.sh), three brokers"
for i in $(seq 1 "$runs"); do
  "$bin" 2>&1 | grep '^figures:' | sed "s/^/run $i: /"
done
