#!/bin/bash
# Starts host k's processes (etcd ek, then Patroni nk) inside cgroup-v2 group
# p7hk (/sys/fs/cgroup/unified/p7hk), so that bh-cut.sh can tell which host a
# packet comes from: on loopback every connection's source address is
# 127.0.0.1 whatever the destination, so an address-only rule cannot tell
# n1's own traffic to e1 from n2's. A mangle rule marks each new connection
# with the host that opened it (CONNMARK 0x8k); it must be there before the
# processes connect. HAProxy runs outside the hosts. PIDs in $WORK/*.pid.
set -eu
WORK=${WORK:-/tmp/p7w}
CG=/sys/fs/cgroup/unified
for k in 1 2 3; do
  mkdir -p $CG/p7h$k
  iptables -w -t mangle -C OUTPUT -o lo -m conntrack --ctstate NEW -m cgroup --path p7h$k -j CONNMARK --set-mark 0x8$k 2>/dev/null ||
    iptables -w -t mangle -A OUTPUT -o lo -m conntrack --ctstate NEW -m cgroup --path p7h$k -j CONNMARK --set-mark 0x8$k
done
# long-dropped TCP flows must stay tracked (not INVALID) so that the cut matches them
echo 1 > /proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal
inhost() { # k logfile pidfile cmd...
  local k=$1 log=$2 pidf=$3; shift 3
  ( echo $BASHPID > $CG/p7h$k/cgroup.procs; exec su postgres -s /bin/bash -c "exec $*" ) > $log 2>&1 &
  echo $! > $pidf
}
for k in 1 2 3; do inhost $k $WORK/etcd$k.log $WORK/etcd$k.pid "$(cat $WORK/etcd$k.cmd)"; done
sleep 3
for k in 1 2 3; do
  inhost $k $WORK/n$k.log $WORK/n$k.pid /usr/bin/patroni $WORK/n$k/patroni.yml
  [ $k = 1 ] && sleep 15
done
/usr/sbin/haproxy -db -f $WORK/haproxy.cfg > $WORK/haproxy.log 2>&1 &
echo $! > $WORK/haproxy.pid
