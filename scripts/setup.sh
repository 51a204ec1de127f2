#!/usr/bin/env bash
# Installs every Debian package that building, testing and running Tally needs.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git curl jq
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  librocksdb-dev librdkafka-dev libsimdjson-dev libssl-dev
  libjwt-dev libfmt-dev libspdlog-dev libcli11-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev
  libhowardhinnant-date-dev tzdata zlib1g-dev prometheus python3-jsonschema
  chromium chromium-driver python3-selenium
  clang-format clang-14 libclang-rt-14-dev kcat
  openjdk-17-jre-headless maven
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -q
  $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# redocly lint (the contracts test): npm's @redocly/cli, pinned, in a folder
# of its own rather than globally.
redocly_version=2.77.0
tools="$HOME/.cache/tally/node"
if [ "$("$tools/node_modules/.bin/redocly" --version 2>/dev/null)" != "$redocly_version" ]; then
  if ! command -v npm >/dev/null; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -q
    $sudo_cmd apt-get install -y -q --no-install-recommends nodejs npm
  fi
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent "@redocly/cli@$redocly_version"
fi

# Apache Kafka for the Kafka-mode tests (scripts/kafka.sh): the broker's jars
# from Maven Central, pinned, cached under ~/.cache/tally/.
bash "$(dirname "$0")/kafka.sh" fetch >/dev/null

# schemathesis for the API fuzz (scripts/api_fuzz.sh), pinned, in a
# virtualenv of its own under ~/.cache/tally/.
command -v python3 >/dev/null && python3 -c "import venv" 2>/dev/null ||
  { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q --no-install-recommends python3-venv; }
bash "$(dirname "$0")/api_fuzz.sh" --install
