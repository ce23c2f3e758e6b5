#!/bin/bash
# One trial of point 5: SIGKILL of the leader's postmaster (Patroni keeps
# running). Load: client.py at 50 INSERT/s straight to the leader's port,
# portprobe.py on the same port. Out: $OUT/trial-$T/{client.csv,port.log,
# n*.log,kill.txt,ps.txt}.
set -u
WORK=${WORK:-/tmp/pm}; OUT=$1; T=$2; PRE=${PRE:-10}; POST=${POST:-60}
D=$OUT/trial-$T; mkdir -p $D
leader=""
for d in $WORK/n*/; do k=$(basename $d); a=127.0.0.6${k#n}
  [ "$(curl -s -o /dev/null -w '%{http_code}' http://$a:25108/primary)" = 200 ] && leader=$k
done
[ -z "$leader" ] && { echo "no leader"; exit 1; }
a=127.0.0.6${leader#n}
for d in $WORK/n*/; do k=$(basename $d); wc -l < $WORK/$k.log > $D/$k.start; done
/usr/bin/python3 portprobe.py $a 25100 $((PRE+POST)) $D/port.log & pp=$!
/usr/bin/python3 client.py $a 25100 50 $((PRE+POST)) $D/client.csv $((T*1000000)) & cl=$!
sleep $PRE
pm=$(head -1 $WORK/$leader/data/postmaster.pid)
kids=$(pgrep -P $pm | paste -sd, -)
t=$(date +%s.%N); kill -KILL $pm
echo "leader=$leader postmaster=$pm killed_at=$t children=$kids" > $D/kill.txt
for s in 0.05 0.5 2; do sleep $s; echo "--- +$s s" >> $D/ps.txt
  ps -o pid,ppid,stat,etimes,args -p "$pm,$kids" >> $D/ps.txt 2>&1; done
wait $cl $pp
for d in $WORK/n*/; do k=$(basename $d); tail -n +$(( $(cat $D/$k.start) + 1 )) $WORK/$k.log > $D/$k.log; rm $D/$k.start; done
echo done $D
