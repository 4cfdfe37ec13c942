#!/bin/bash
# stall.sh JAR LABEL REACTS_PER_SEC
J=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
DATA=$(mktemp -d /tmp/s37/bench/sdata.XXXX)
taskset -c 0 $J -XX:+UseCompactObjectHeaders -jar $1 serve --host 127.0.0.1 --port 18090 --admin-port 18091 --data-dir $DATA \
  --rate-limit 100000 --rate-burst 100 --bcrypt-cost 4 > /tmp/s37/bench/$2.node.log 2>&1 &
S=$!
until curl -sf -o /dev/null http://127.0.0.1:18090/health/ready; do sleep 0.5; done
echo -n "$2: "; (cd /tmp/s37/fd && taskset -c 1 node stall.mjs http://127.0.0.1:18090 $3 30)
kill $S; wait $S 2>/dev/null; rm -rf $DATA
