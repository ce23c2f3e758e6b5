#!/bin/bash
# bh-cut.sh add|del K: blackholes host K (127.0.0.8K and the processes of
# cgroup p7hK) from every other loopback endpoint, both ways:
#  - a packet of a connection host K opened (CONNMARK 0x8K) whose original
#    destination is not 127.0.0.8K: dropped (K -> others, and the others'
#    replies to it);
#  - a packet of a connection someone else opened towards 127.0.0.8K:
#    dropped (others -> K, and K's replies).
# Host K's own traffic (n K -> e K, postgres' unix socket) is untouched.
# On lo every packet crosses OUTPUT once (then INPUT), so OUTPUT sees each
# packet of both directions; the INPUT copies of the rules drop whatever
# OUTPUT let through by mistake (none expected). 'del' removes exactly these.
set -eu
op=$1; k=$2; a=127.0.0.8$k; m=0x8$k
case $op in add) f=-A ;; del) f=-D ;; *) echo "add|del K"; exit 2 ;; esac
for ch in OUTPUT INPUT; do
  io=-o; [ $ch = INPUT ] && io=-i
  iptables -w $f $ch $io lo -m connmark --mark $m -m conntrack ! --ctorigdst $a -j DROP
  iptables -w $f $ch $io lo -m connmark ! --mark $m -m conntrack --ctorigdst $a -j DROP
done
