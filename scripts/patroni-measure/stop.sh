#!/bin/bash
# Ends what start.sh started, by PID: Patroni (TERM: it stops its postgres),
# then etcd. Postgres postmasters left behind are ended by their pid file.
WORK=${WORK:-/tmp/pm}
for f in $WORK/n*.pid; do kill -TERM $(cat $f) 2>/dev/null; done
sleep 8
for d in $WORK/n*/data; do
  [ -f $d/postmaster.pid ] && kill -TERM $(head -1 $d/postmaster.pid) 2>/dev/null
done
for f in $WORK/n*.pid $WORK/etcd*.pid; do kill -TERM $(cat $f) 2>/dev/null; done
sleep 1
