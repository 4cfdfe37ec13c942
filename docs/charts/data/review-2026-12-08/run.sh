#!/bin/bash
# run.sh JAR LABEL [extra server flags...]: scenario 2 (100 rooms x 10, 1 sender x 10/s), server core 0, bench core 1.
# and pwrite64 of the node longer than 2 ms; after the bench, /metrics is kept.
J=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
jar=$1; label=$2; shift 2
O=/tmp/s38/bench
DATA=$(mktemp -d $O/data.XXXX); PORT=18080
taskset -c 0 $J -XX:+UseCompactObjectHeaders -Xlog:gc:file=$O/$label.gc.log:uptime $JFLAGS -jar $jar serve --host 127.0.0.1 --port $PORT --data-dir $DATA \
  --rate-limit 100000 --rate-burst 100000 --bcrypt-cost 4 --registrations-per-ip 1000000 --max-connections-per-ip 0 --upgrade-rate 0 "$@" > $O/$label.node.log 2>&1 &
S=$!
until curl -sf -o /dev/null http://127.0.0.1:$PORT/health/ready; do sleep 0.5; done
taskset -c 1 $J -jar /tmp/s35/bench.jar fanout --rooms 100 --members 10 --senders 1 --rate 10 --warmup 30s --duration 20s \
  --url http://127.0.0.1:$PORT --server-pid $S --json > $O/$label.json 2>$O/$label.bench.log
curl -s http://127.0.0.1:9180/metrics | grep -E "^parley_(append|ack|journal)" > $O/$label.metrics
kill $S; wait $S 2>/dev/null
rm -rf $DATA
python3 -c "
import json
d=json.load(open('$O/$label.json'))
print('$label', 'cores', d['server']['cores'], 'p50', d['latency']['p50'], 'p99', d['latency']['p99'], 'ack p99', d['ackLatency']['p99'], 'correct', d['correct'])
"
