#!/bin/bash
# Point 7 (leader-host blackhole): sets up (does not start) 3 "hosts" on
# loopback under $WORK (default /tmp/p7w). Host k = 127.0.0.8k: etcd member ek
# (client 25479, peer 25480), Patroni nk (REST 25208), its postgres (25200),
# all bound to that address; plus HAProxy (127.0.0.1:25290, run by the
# harness outside every host) in front of the three.
# Patroni settings as experiments/patroni-3.0.2-blackhole.toml with the
# patroni-3.0.2 preset (models/patroni-3.0.2.toml): ttl 30, loop_wait 10,
# retry_timeout 10, maximum_lag_on_failover 1 MiB, asynchronous streaming
# (synchronous_mode off), wal_sender_timeout 60 s (PostgreSQL's default, set
# explicitly), use_pg_rewind; etcd3 hosts = the three members.
# HAProxy as the experiment's [balancers.haproxy]: tcp, httpchk GET /primary,
# inter 3s fall 3 rise 2, timeout connect 4s / check 5s, retries 2,
# on-marked-down shutdown-sessions.
set -eu
WORK=${WORK:-/tmp/p7w}
N=3
rm -rf "$WORK"; mkdir -p "$WORK"
hosts=""; cluster=""
for j in $(seq 1 $N); do
  hosts="${hosts:+$hosts,}127.0.0.8$j:25479"
  cluster="${cluster:+$cluster,}e$j=http://127.0.0.8$j:25480"
done
for j in $(seq 1 $N); do
  a=127.0.0.8$j
  echo "/usr/bin/etcd --name e$j --data-dir $WORK/etcd$j --listen-client-urls http://$a:25479 --advertise-client-urls http://$a:25479 --listen-peer-urls http://$a:25480 --initial-advertise-peer-urls http://$a:25480 --initial-cluster $cluster --initial-cluster-state new --initial-cluster-token p7" > "$WORK/etcd$j.cmd"
done
for k in $(seq 1 $N); do
  a=127.0.0.8$k; d=$WORK/n$k
  mkdir -p $d/pglog
  cat > $d/patroni.yml <<YML
scope: p7
namespace: /p7/
name: n$k
log:
  level: INFO
  format: '%(asctime)s.%(msecs)03d %(levelname)s: %(message)s'
  dateformat: '%Y-%m-%d %H:%M:%S'
restapi:
  listen: $a:25208
  connect_address: $a:25208
etcd3:
  hosts: $hosts
bootstrap:
  dcs:
    ttl: 30
    loop_wait: 10
    retry_timeout: 10
    maximum_lag_on_failover: 1048576
    synchronous_mode: false
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 100
        wal_sender_timeout: 60s
  initdb:
  - encoding: UTF8
postgresql:
  listen: $a:25200
  connect_address: $a:25200
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
    logging_collector: 'on'
    log_directory: '$d/pglog'
    log_filename: 'postgresql-%H%M%S.log'
    log_min_messages: info
    log_connections: 'off'
  pg_hba:
  - local all all trust
  - host replication replicator 127.0.0.0/8 trust
  - host all all 127.0.0.0/8 trust
YML
done
cat > $WORK/haproxy.cfg <<CFG
global
  maxconn 2000
  log stdout format short local0 info
defaults
  mode tcp
  log global
  timeout connect 4s
  timeout client 30m
  timeout server 30m
  timeout check 5s
  retries 2
listen pg
  bind 127.0.0.1:25290
  option httpchk GET /primary
  http-check expect status 200
  default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions
CFG
for k in $(seq 1 $N); do
  echo "  server n$k 127.0.0.8$k:25200 check port 25208" >> $WORK/haproxy.cfg
done
chown -R postgres:postgres "$WORK"
echo "$WORK: $N hosts"
