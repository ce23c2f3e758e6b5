#!/bin/bash
# Starts the etcd members, then the Patroni nodes (n1 first so it bootstraps).
# PIDs go to $WORK/*.pid; logs to $WORK/*.log. Postgres' own stderr goes to
# Patroni's postgresql log (data_dir/... via pg_ctl -l? no: Patroni passes
# the log through), see n*/pg.log via logging_collector off + stderr.
set -eu
WORK=${WORK:-/tmp/pm}
for f in $WORK/etcd*.cmd; do
  j=$(basename $f .cmd)
  su postgres -s /bin/bash -c "exec $(cat $f)" > $WORK/$j.log 2>&1 &
  echo $! > $WORK/$j.pid
done
sleep 2
for d in $WORK/n*/; do
  k=$(basename $d)
  su postgres -s /bin/bash -c "exec /usr/bin/patroni $d/patroni.yml" > $WORK/$k.log 2>&1 &
  echo $! > $WORK/$k.pid
  [ $k = n1 ] && sleep 15
done
