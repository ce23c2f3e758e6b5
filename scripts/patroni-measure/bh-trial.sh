#!/bin/bash
# One trial of point 7: the leader's host blackholed for H s (bh-cut.sh),
# healed, POST s more of load, then the final primary's table is read.
# Usage: bh-trial.sh OUTDIR T H [PRE=15] [POST=60]
# Load: client.py through HAProxy (127.0.0.1:25290), 50 INSERT/s, unique ids.
# Out: $OUT/trial-$T/{client.csv, cut.txt, final-ids.txt, cluster-*.json,
#      watch-e*.log (timestamped etcd v3 gateway watch of the leader key, at e1 from
#      inside host 1 and at e2), n*.log, etcd*.log, haproxy.log, pg-n*.log}
set -u
D0=$(cd $(dirname $0) && pwd)
WORK=${WORK:-/tmp/p7w}; OUT=$1; T=$2; H=$3; PRE=${4:-15}; POST=${5:-60}
D=$OUT/trial-$T; rm -rf $D; mkdir -p $D
$D0/bh-stop.sh; $D0/bh-setup.sh; $D0/bh-start.sh
role() { curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.8$1:25208/$2; }
for i in $(seq 1 90); do
  [ "$(role 1 primary)" = 200 ] && [ "$(role 2 replica)" = 200 ] && [ "$(role 3 replica)" = 200 ] && break
  sleep 1
done
[ "$(role 1 primary)" = 200 ] || { echo "no cluster"; $D0/bh-stop.sh; exit 1; }
psql -h 127.0.0.81 -p 25200 -U postgres -qc 'CREATE TABLE w(id bigint PRIMARY KEY, t timestamptz DEFAULT clock_timestamp())'
sleep 3
ts() { while IFS= read -r l; do printf '%s %s\n' "$(date +%s.%N)" "$l"; done; }
for j in 1 2; do
  ( [ $j = 1 ] && echo $BASHPID > /sys/fs/cgroup/unified/p7h1/cgroup.procs
    exec curl -sN http://127.0.0.8$j:25479/v3/watch -d '{"create_request":{"key":"L3A3L3A3L2xlYWRlcg=="}}' ) 2>&1 | ts > $D/watch-e$j.log &
  echo $! > $WORK/watch$j.pid
done
/usr/bin/python3 $D0/client.py 127.0.0.1 25290 50 $((PRE+H+POST)) $D/client.csv $((T*1000000)) & cl=$!
sleep $PRE
leader=""; for k in 1 2 3; do [ "$(role $k primary)" = 200 ] && leader=$k; done
[ -z "$leader" ] && { echo "no leader at cut"; leader=1; }
curl -s -m 2 http://127.0.0.8$leader:25208/cluster > $D/cluster-before.json
t_cut=$(date +%s.%N); $D0/bh-cut.sh add $leader
sleep $H
t_heal=$(date +%s.%N); $D0/bh-cut.sh del $leader
echo "leader=n$leader cut_at=$t_cut heal_at=$t_heal H=$H PRE=$PRE POST=$POST" > $D/cut.txt
wait $cl
sleep 5
final=""; for k in 1 2 3; do [ "$(role $k primary)" = 200 ] && final="$final $k"; done
echo "final_primaries=$final" >> $D/cut.txt
for k in 1 2 3; do curl -s -m 2 http://127.0.0.8$k:25208/cluster > $D/cluster-after-n$k.json; done
f=$(echo $final | awk '{print $1}')
[ -n "$f" ] && psql -h 127.0.0.8$f -p 25200 -U postgres -Atc 'SELECT id FROM w ORDER BY id' > $D/final-ids.txt
for k in 1 2 3; do psql -h 127.0.0.8$k -p 25200 -U postgres -Atc "SELECT 'n$k', pg_is_in_recovery(), count(*), timeline_id FROM w, pg_control_checkpoint() GROUP BY 2,4" >> $D/node-counts.txt 2>&1; done
for k in 1 2 3; do cp $WORK/n$k.log $WORK/etcd$k.log $D/; cat $WORK/n$k/pglog/*.log > $D/pg-n$k.log 2>/dev/null; done
cp $WORK/haproxy.log $D/
$D0/bh-stop.sh
echo done $D
