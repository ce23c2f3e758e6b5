#!/bin/bash
# Packs bh-trial.sh outputs into tests/validation/measured/raw/patroni-3.0.2-blackhole/:
# trial-K.csv.gz: one row per request, times relative to the cut:
#   start_s,end_s,outcome,status,latency_ms,id,lost (lost = 1: acknowledged,
#   absent from the final primary's table)
# trial-K-logs.tar.gz: everything bh-trial.sh recorded (client.csv with epoch
#   times, cut.txt, final-ids.txt, Patroni / postgres / etcd / HAProxy logs,
#   the leader-key watches, /cluster answers, node-counts.txt).
# Usage: bh-pack.sh OUTDIR DEST K...
set -eu
OUT=$1; DEST=$2; shift 2
mkdir -p $DEST
for k in "$@"; do
  d=$OUT/trial-$k
  python3 - $d <<'PY' | gzip -9n > $DEST/trial-$k.csv.gz
import sys, csv, re
d = sys.argv[1]
tc = float(re.search(r'cut_at=(\S+)', open(d + '/cut.txt').read()).group(1))
final = set(int(x) for x in open(d + '/final-ids.txt').read().split())
print('start_s,end_s,outcome,status,latency_ms,id,lost')
for r in csv.DictReader(open(d + '/client.csv')):
    s, e = float(r['start_epoch']), float(r['end_epoch'])
    ok = r['outcome'] == 'ok'
    lost = int(ok and int(r['id']) not in final)
    print('%.4f,%.4f,%s,%s,%.1f,%s,%d' % (s - tc, e - tc, r['outcome'], 'ok' if ok else r['error'][:60].replace(',', ';'), (e - s) * 1000, r['id'], lost))
PY
  tar -C $OUT -czf $DEST/trial-$k-logs.tar.gz trial-$k
done
ls -la $DEST
