#!/bin/bash
# Sets up (does not start) N Patroni 3.0.2 nodes and M etcd 3.4 members on
# loopback, under $WORK (default /tmp/pm). Node k: 127.0.0.6k, postgres port
# 25100, REST 25108; etcd member j: 127.0.0.7j:25379 (peer 25380).
# Same Patroni settings as the lead's patroni-p1 case (ttl 30, loop_wait 10,
# retry_timeout 10, use_pg_rewind, async streaming).
set -eu
WORK=${WORK:-/tmp/pm}
NODES=${NODES:-2}
ETCDS=${ETCDS:-1}
rm -rf "$WORK"; mkdir -p "$WORK"
hosts=""; cluster=""
for j in $(seq 1 $ETCDS); do
  hosts="${hosts:+$hosts,}127.0.0.7$j:25379"
  cluster="${cluster:+$cluster,}e$j=http://127.0.0.7$j:25380"
done
for j in $(seq 1 $ETCDS); do
  a=127.0.0.7$j
  echo "/usr/bin/etcd --name e$j --data-dir $WORK/etcd$j --listen-client-urls http://$a:25379 --advertise-client-urls http://$a:25379 --listen-peer-urls http://$a:25380 --initial-advertise-peer-urls http://$a:25380 --initial-cluster $cluster --initial-cluster-state new" > "$WORK/etcd$j.cmd"
done
for k in $(seq 1 $NODES); do
  a=127.0.0.6$k; d=$WORK/n$k
  mkdir -p $d
  cat > $d/patroni.yml <<YML
scope: pm
namespace: /pm/
name: n$k
log:
  level: INFO
  format: '%(asctime)s.%(msecs)03d %(levelname)s: %(message)s'
  dateformat: '%Y-%m-%d %H:%M:%S'
restapi:
  listen: $a:25108
  connect_address: $a:25108
etcd3:
  hosts: $hosts
bootstrap:
  dcs:
    ttl: 30
    loop_wait: 10
    retry_timeout: 10
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 200
  initdb:
  - encoding: UTF8
postgresql:
  listen: $a:25100
  connect_address: $a:25100
  use_unix_socket: true
  data_dir: $d/data
  bin_dir: /usr/lib/postgresql/15/bin
  pgpass: $d/pgpass
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
  authentication:
    replication:
      username: replicator
      password: rep-pass
    superuser:
      username: postgres
      password: pg-pass
    rewind:
      username: rewinder
      password: rw-pass
  parameters:
    unix_socket_directories: '$d'
    shared_buffers: 16MB
    work_mem: 1MB
    maintenance_work_mem: 16MB
    max_wal_size: 256MB
    log_line_prefix: '%m [%p] '
    logging_collector: 'off'
  pg_hba:
  - local all all trust
  - host replication replicator 127.0.0.0/8 trust
  - host all all 127.0.0.0/8 trust
YML
done
chown -R postgres:postgres "$WORK"
echo "$WORK: $NODES nodes, $ETCDS etcd"
