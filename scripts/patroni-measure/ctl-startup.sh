#!/bin/bash
# patronictl's own start-up on this host: `patronictl version` (imports
# only) and `patronictl list` (imports + configuration + a DCS read), N each.
WORK=${WORK:-/tmp/pm}
for i in $(seq 1 ${1:-5}); do
  for c in version list; do
    t0=$(date +%s.%N); su postgres -s /bin/bash -c "/usr/bin/patronictl -c $WORK/n1/patroni.yml $c" > /dev/null 2>&1; t1=$(date +%s.%N)
    echo "$c $(echo "$t1 - $t0" | bc)"
  done
done
