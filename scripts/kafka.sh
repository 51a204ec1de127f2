#!/usr/bin/env bash
# Apache Kafka for the tests and for trying Kafka mode: fetched from Maven
# Central with Maven (cached under ~/.cache/tally/), run as KRaft brokers on
# loopback. docs/operations.md ("Kafka") says which version and why.
#
#   scripts/kafka.sh fetch              fetch the broker (once); prints its lib folder
#   scripts/kafka.sh start DIR [NODES]  start NODES brokers (1 or 3, each broker and
#                                       controller) with their data in DIR; prints
#                                       `bootstrap HOST:PORT[,…]` once they answer,
#                                       and writes it to DIR/bootstrap
#   scripts/kafka.sh topics BOOTSTRAP [PARTITIONS [REPLICATION]]
#                                       create tally.events and tally.owners as
#                                       docs/operations.md tells operators to
#   scripts/kafka.sh kill DIR NODE      kill -9 one broker (1-based)
#   scripts/kafka.sh restart DIR NODE   start a killed broker again, and wait for it
#   scripts/kafka.sh leader DIR TOPIC PARTITION
#                                       the node that leads a partition now
#   scripts/kafka.sh stop DIR           stop every broker DIR holds and remove DIR
#
# Nothing is left behind: `stop` ends what `start` began (and the brokers
# die with nothing else: each is its own process group, recorded in DIR).
set -euo pipefail

version=3.9.1
cache="$HOME/.cache/tally/kafka-$version"
libs="$cache/libs"

java_opts=(-Xms128m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
           -Djava.awt.headless=true)

fetch() {
  if [ -f "$cache/complete" ]; then
    echo "$libs"
    return
  fi
  command -v mvn >/dev/null || { echo "kafka.sh: mvn is missing (scripts/setup.sh installs it)" >&2; exit 1; }
  mkdir -p "$cache"
  cat >"$cache/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tally</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- The broker (kafka.Kafka, kafka.tools.StorageTool) and the tools
         (org.apache.kafka.tools.TopicCommand), with what they need. -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$libs"
  mvn -q -B -f "$cache/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" >&2
  touch "$cache/complete"
  echo "$libs"
}

# Writes a log4j configuration that keeps the brokers' logs in DIR.
log_config() {
  local dir=$1
  cat >"$dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=\${kafka.logs.dir}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
EOF
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

kafka_java() {
  local dir=$1
  shift
  java "${java_opts[@]}" -Dlog4j.configuration="file:$dir/log4j.properties" \
    -Dkafka.logs.dir="$dir" -cp "$libs/*" "$@"
}

# Waits until every broker in the bootstrap list answers a metadata request.
wait_up() {
  local bootstrap=$1 deadline=$((SECONDS + 60))
  local brokers
  brokers=$(tr ',' '\n' <<<"$bootstrap" | wc -l)
  while [ $SECONDS -lt $deadline ]; do
    if [ "$(kcat -b "$bootstrap" -L -m 3 2>/dev/null | grep -c '^  broker ')" = "$brokers" ]; then
      return 0
    fi
    sleep 0.3
  done
  echo "kafka.sh: the brokers at $bootstrap did not answer within 60 s" >&2
  return 1
}

start_node() {
  local dir=$1 node=$2
  local nd="$dir/node-$node"
  setsid bash -c 'echo $$ >"$1/pid"; shift; exec "$@"' _ "$nd" \
    java "${java_opts[@]}" -Dlog4j.configuration="file:$dir/log4j.properties" \
    -Dkafka.logs.dir="$nd" -cp "$libs/*" kafka.Kafka "$nd/server.properties" \
    >"$nd/stdout.log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do [ -s "$nd/pid" ] && break; sleep 0.1; done
}

start() {
  local dir=$1 nodes=${2:-1}
  [ "$nodes" = 1 ] || [ "$nodes" = 3 ] || { echo "kafka.sh: NODES is 1 or 3" >&2; exit 2; }
  fetch >/dev/null
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  log_config "$dir"
  local voters="" bootstrap="" ports=()
  for n in $(seq 1 "$nodes"); do
    local p c
    p=$(free_port)
    c=$(free_port)
    ports+=("$p:$c")
    voters+="${voters:+,}$n@127.0.0.1:$c"
    bootstrap+="${bootstrap:+,}127.0.0.1:$p"
  done
  local rf=$nodes isr=$((nodes > 1 ? 2 : 1))
  local cluster
  cluster=$(kafka_java "$dir" kafka.tools.StorageTool random-uuid)
  for n in $(seq 1 "$nodes"); do
    local p=${ports[$((n - 1))]%%:*} c=${ports[$((n - 1))]##*:}
    local nd="$dir/node-$n"
    mkdir -p "$nd/data"
    cat >"$nd/server.properties" <<EOF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$p,CONTROLLER://127.0.0.1:$c
advertised.listeners=PLAINTEXT://127.0.0.1:$p
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$nd/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
unclean.leader.election.enable=false
EOF
    kafka_java "$dir" kafka.tools.StorageTool format -t "$cluster" -c "$nd/server.properties" >/dev/null
  done
  for n in $(seq 1 "$nodes"); do start_node "$dir" "$n"; done
  echo "$bootstrap" >"$dir/bootstrap"
  if ! wait_up "$bootstrap"; then
    tail -20 "$dir"/node-*/server.log >&2 || true
    stop "$dir"
    exit 1
  fi
  echo "bootstrap $bootstrap"
}

topics() {
  local bootstrap=$1 partitions=${2:-12} replication=${3:-1}
  fetch >/dev/null
  local tmp
  tmp=$(mktemp -d)
  log_config "$tmp"
  local isr=$((replication > 1 ? 2 : 1))
  kafka_java "$tmp" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
    --create --if-not-exists --topic tally.events --partitions "$partitions" \
    --replication-factor "$replication" --config min.insync.replicas="$isr" \
    --config cleanup.policy=delete --config retention.ms=-1 2>/dev/null
  kafka_java "$tmp" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
    --create --if-not-exists --topic tally.owners --partitions 1 \
    --replication-factor "$replication" --config cleanup.policy=compact 2>/dev/null
  rm -rf "$tmp"
}

pid_of() {
  local f="$1/node-$2/pid"
  [ -s "$f" ] && cat "$f"
}

kill_node() {
  local dir=$1 node=$2 pid
  pid=$(pid_of "$dir" "$node") || { echo "kafka.sh: node $node is not running" >&2; exit 1; }
  kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$dir/node-$node/pid"
}

restart_node() {
  local dir=$1 node=$2
  start_node "$dir" "$node"
  wait_up "$(cat "$dir/bootstrap")"
}

leader() {
  local dir=$1 topic=$2 partition=$3
  kcat -b "$(cat "$dir/bootstrap")" -L -t "$topic" -m 5 2>/dev/null |
    awk -v p="$partition" '$1 == "partition" && $2 == p"," { sub(",", "", $4); print $4; exit }'
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  local pids=()
  for f in "$dir"/node-*/pid; do
    [ -s "$f" ] || continue
    pids+=("$(cat "$f")")
  done
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + 15))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -9 -- "-$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start "${2:?DIR}" "${3:-1}" ;;
  topics) topics "${2:?BOOTSTRAP}" "${3:-12}" "${4:-1}" ;;
  kill) kill_node "${2:?DIR}" "${3:?NODE}" ;;
  restart) restart_node "${2:?DIR}" "${3:?NODE}" ;;
  leader) leader "${2:?DIR}" "${3:?TOPIC}" "${4:?PARTITION}" ;;
  stop) stop "${2:?DIR}" ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
