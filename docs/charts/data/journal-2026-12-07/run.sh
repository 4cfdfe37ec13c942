#!/bin/bash
# run.sh JAR LABEL [extra server flags...]: a fanout scenario, server core 0, bench core 1.
# SCENARIO: "2" (default; 100 rooms x 10, 1 sender x 10/s) or "1" (1 room x 100, 10 senders x 100/s).
# JFLAGS: extra JVM flags for the server. perf stat counts the node for the 10 s from 40 s after ready.
J=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
jar=$1; label=$2; shift 2
case "${SCENARIO:-2}" in
  1) SHAPE="--rooms 1 --members 100 --senders 10 --rate 100" ;;
  *) SHAPE="--rooms 100 --members 10 --senders 1 --rate 10" ;;
esac
DATA=$(mktemp -d /tmp/s35/data.XXXX); PORT=18080
taskset -c 0 $J -XX:+UseCompactObjectHeaders $JFLAGS -jar $jar serve --host 127.0.0.1 --port $PORT --data-dir $DATA \
  --rate-limit 100000 --rate-burst 100000 --bcrypt-cost 4 --registrations-per-ip 1000000 --max-connections-per-ip 0 --upgrade-rate 0 "$@" > /tmp/s35/$label.node.log 2>&1 &
S=$!
until curl -sf -o /dev/null http://127.0.0.1:$PORT/health/ready; do sleep 0.5; done
(sleep 40; perf stat -x, -e task-clock,context-switches,syscalls:sys_enter_fdatasync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_write -p $S -o /tmp/s35/$label.perf -- sleep 10 >/dev/null 2>&1) &
taskset -c 1 $J -jar /tmp/s35/bench.jar fanout $SHAPE --warmup 30s --duration 20s \
  --url http://127.0.0.1:$PORT --server-pid $S --json > /tmp/s35/$label.json 2>/tmp/s35/$label.bench.log
kill $S; wait $S 2>/dev/null
rm -rf $DATA
python3 -c "
import json
d=json.load(open('/tmp/s35/$label.json'))
import subprocess
print('$label', 'cores', d['server']['cores'], 'p50', d['latency']['p50'], 'p99', d['latency']['p99'], 'ack p99', d['ackLatency']['p99'], 'correct', d['correct'])
"
grep -v '^#' /tmp/s35/$label.perf | awk -F, 'NF>2{printf "  %s=%s", $3, $1} END{print ""}'
