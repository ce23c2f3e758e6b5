#!/bin/bash
# How long an orphan (parent = PID 1) stays a zombie after SIGKILL on this
# host: Patroni's postmaster is such an orphan (postmaster.py pg_ctl_start:
# setsid + Popen in a multiprocessing child that exits).
for i in $(seq 1 ${1:-20}); do
  p=$(setsid sh -c 'sleep 300 >/dev/null 2>&1 & echo $!')
  sleep 0.$((RANDOM % 10))
  t0=$(date +%s.%N); kill -9 $p
  while [ -e /proc/$p ]; do sleep 0.005; done
  echo "$(echo "$(date +%s.%N) - $t0" | bc)"
done
