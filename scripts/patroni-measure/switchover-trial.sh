#!/bin/bash
# One trial of point 6: patronictl switchover from the current leader to the
# other node, timed from the command's start. Out: $OUT/trial-$T/{ctl.txt,n*.log}.
set -u
WORK=${WORK:-/tmp/pm}; OUT=$1; T=$2
D=$OUT/trial-$T; mkdir -p $D
leader=""; cand=""
for d in $WORK/n*/; do k=$(basename $d); a=127.0.0.6${k#n}
  if [ "$(curl -s -o /dev/null -w '%{http_code}' http://$a:25108/primary)" = 200 ]; then leader=$k; else cand=$k; fi
done
[ -z "$leader" ] && { echo "no leader"; exit 1; }
for d in $WORK/n*/; do k=$(basename $d); wc -l < $WORK/$k.log > $D/$k.start; done
sleep $((RANDOM % 10)).$((RANDOM % 10))
t0=$(date +%s.%N)
su postgres -s /bin/bash -c "/usr/bin/patronictl -c $WORK/$leader/patroni.yml switchover --leader $leader --candidate $cand --force" > $D/ctl.out 2>&1
t1=$(date +%s.%N)
echo "leader=$leader candidate=$cand started_at=$t0 ended_at=$t1" > $D/ctl.txt
sleep 40
for d in $WORK/n*/; do k=$(basename $d); tail -n +$(( $(cat $D/$k.start) + 1 )) $WORK/$k.log > $D/$k.log; rm $D/$k.start; done
echo done $D
