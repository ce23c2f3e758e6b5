#!/bin/bash
# Ends what bh-start.sh started, by PID (Patroni TERM stops its postgres;
# postmasters left behind by their pid file), removes the cut and mark rules
# if still there, the cgroups (the cgroup dirs can stay busy for a moment:
# rmdir them again if listed), and nf_conntrack_tcp_be_liberal.
WORK=${WORK:-/tmp/p7w}
D=$(dirname $0)
for k in 1 2 3; do $D/bh-cut.sh del $k 2>/dev/null; done
[ -f $WORK/haproxy.pid ] && kill -TERM $(cat $WORK/haproxy.pid) 2>/dev/null
for f in $WORK/n*.pid; do kill -TERM $(cat $f) 2>/dev/null; done
sleep 8
for d in $WORK/n*/data; do
  [ -f $d/postmaster.pid ] && kill -TERM $(head -1 $d/postmaster.pid) 2>/dev/null
done
for f in $WORK/n*.pid $WORK/etcd*.pid $WORK/watch*.pid; do [ -f $f ] && kill -TERM $(cat $f) 2>/dev/null; done
sleep 1
for k in 1 2 3; do
  iptables -w -t mangle -D OUTPUT -o lo -m conntrack --ctstate NEW -m cgroup --path p7h$k -j CONNMARK --set-mark 0x8$k 2>/dev/null
  rmdir /sys/fs/cgroup/unified/p7h$k 2>/dev/null
done
# bh-start.sh set it to 1 (the kernel default is 0)
echo 0 > /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal 2>/dev/null
true
