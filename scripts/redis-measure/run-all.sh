#!/bin/sh
# Runs the trials one after the other (about a minute each).
# PYLIB: a directory holding redis-py 8.1.0 (pip install --target "$PYLIB" redis==8.1.0)
# Usage: run-all.sh OUTDIR "cluster:1 sentinel:1 ..."
PYLIB=${PYLIB:-/tmp/redisval-pylib}
OUT=$1
for t in $2; do
  kind=${t%%:*}; n=${t##*:}
  mkdir -p "$OUT/$kind"
  PYTHONPATH=$PYLIB timeout 180 /usr/bin/python3 "$(dirname "$0")/measure.py" "$kind" "$n" "$OUT/$kind" > "$OUT/$kind/trial-$n.out" 2>&1
done
