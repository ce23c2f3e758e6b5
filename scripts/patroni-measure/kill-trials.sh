#!/bin/bash
# Trials FIRST..LAST of kill-trial.sh, the kill at a random phase of the HA loop.
for t in $(seq $2 $3); do
  PRE=$((8 + RANDOM % 10)) ./kill-trial.sh $1 $t
  sleep 20
done
