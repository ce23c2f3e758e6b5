#!/usr/bin/python3
"""Assemble the case TOML (public format, shared/validation/FORMAT.md) from
measure.py's trial-N.json summaries.  Usage: make-case.py sentinel|cluster DIR OUT.toml"""
import glob
import json
import math
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import importlib.util

spec = importlib.util.spec_from_file_location("m", __file__.rsplit("/", 1)[0] + "/measure.py")
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)

kind, d, out = sys.argv[1], sys.argv[2], sys.argv[3]
trials = sorted(glob.glob(f"{d}/trial-*.json"), key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]))
S = [json.load(open(p)) for p in trials]


def arr(key, fmt=None):
    vals = [s.get(key, float("nan")) for s in S]
    def f(v):
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, float) and math.isnan(v):
            return "nan"
        return str(round(v, 3)) if isinstance(v, float) else str(v)
    return "[" + ", ".join(f(v) for v in vals) + "]"


def med(key):
    v = sorted(s[key] for s in S)
    return round(v[len(v) // 2], 3)


keys_common = ["requests_total", "requests_failed", "requests_failed_before_recover",
               "requests_failed_after_recover", "failure_kinds", "writes_lost",
               "writes_lost_after_recover", "lost_last_ack_s", "first_failure_s", "last_failure_s",
               "last_failure_end_s", "first_failure_after_recover_s", "detected_down_s"]
if kind == "sentinel":
    keys = keys_common + ["odown_s", "switch_master_s", "new_master", "recovered_up_s", "latency_ms_p99_in_window"]
    sent_ip = m.SENT_HOSTS
    head = f'''[meta]
id = "redis-sentinel-stop-dam5000"
system = "redis-sentinel"
software = "redis 7.0.15 (Debian 12 redis-server/redis-sentinel), client redis-py 8.1.0"
story = "SIGSTOP of the Sentinel-managed master (1 master + 2 replicas, 3 sentinels, quorum 2, down-after 5000 ms); one client writes 200 SET/s through redis-py's Sentinel master_for; old master SIGCONTed 22 s later."
seed_link = "issue 12 point 7 (measured here, scripts/redis-measure/)"

[topology]
redis_nodes = 3
redis_addresses = {json.dumps([f"{ip}:{m.SENT_REDIS_PORT}" for ip in sent_ip])}
initial_master = "{sent_ip[0]}:{m.SENT_REDIS_PORT}"
sentinels = 3
sentinel_addresses = {json.dumps([f"{ip}:{m.SENT_PORT}" for ip in sent_ip])}
colocation = "each sentinel shares its host address with one redis node (sentinel1 with the initial master)"
quorum = 2
down_after_ms = 5000
failover_timeout_ms = 60000
parallel_syncs = 1
min_replicas_to_write = 0
min_replicas_max_lag_s = 10
persistence = "none (save '', appendonly no); a SIGCONTed master keeps its data"
redis_config = \'\'\'
{m.REDIS_SENT_CONF.format(ip=sent_ip[1], port=m.SENT_REDIS_PORT, dir="<datadir>")}replicaof {sent_ip[0]} {m.SENT_REDIS_PORT}
\'\'\'
sentinel_config = \'\'\'
{m.SENTINEL_CONF.format(ip=sent_ip[1], port=m.SENT_PORT, dir="<datadir>", mip=sent_ip[0], mport=m.SENT_REDIS_PORT)}\'\'\'
'''
    client = "redis-py 8.1.0 Sentinel([...], socket_timeout=0.3).master_for('mymaster', socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0), max_connections=400): asks sentinels in list order on every new connection, READONLY -> reconnect; no retries; 200 worker threads"
    target = f"redis master process {sent_ip[0]}:{m.SENT_REDIS_PORT} (SIGSTOP; its sentinel keeps running)"
    recover = "SIGCONT (the process keeps its data and, until a sentinel reconfigures it, its role master)"
else:
    keys = keys_common + ["cluster_state_fail_s", "failover_election_won_s", "cluster_state_ok_s", "recovered_up_s", "latency_ms_p99_in_window"]
    A, B, C = m.CL_MASTERS
    head = f'''[meta]
id = "redis-cluster-stop-nt5000"
system = "redis-cluster"
software = "redis 7.0.15 (Debian 12 redis-server), client redis-py 8.1.0"
story = "Redis Cluster 3 masters + 3 replicas on 3 'VMs' (each VM: one master + replica of another master), cluster-node-timeout 5000; SIGSTOP of master B; client uses redis-py RedisCluster; B SIGCONTed 22 s later."
seed_link = "issue 12 point 7 (measured here, scripts/redis-measure/)"

[topology]
masters = 3
replicas_per_master = 1
layout = "VM1={A[0]}: master A ({A[1]}, slots 0-5460) + replica of C ({m.CL_REPLICAS[2][1]}); VM2={B[0]}: master B ({B[1]}, 5461-10922) + replica of A ({m.CL_REPLICAS[0][1]}); VM3={C[0]}: master C ({C[1]}, 10923-16383) + replica of B ({m.CL_REPLICAS[1][1]}); cluster bus port = port + 100"
node_timeout_ms = 5000
cluster_require_full_coverage = true
cluster_replica_validity_factor = 10
persistence = "none; the SIGCONTed node keeps its memory and nodes.conf"
redis_config = \'\'\'
{m.CLUSTER_CONF.format(ip=B[0], port=B[1], bus=B[1] + 100, dir="<datadir>")}\'\'\'
'''
    client = "redis-py 8.1.0 RedisCluster(startup_nodes=[A, B, C], socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)) (per-node pools of up to 100 connections, the redis-py default; slot map, MOVED handling, refreshes topology after a connection error or CLUSTERDOWN), no retries, 200 worker threads"
    target = f"master B process ({B[0]}:{B[1]}), SIGSTOP"
    recover = "SIGCONT (B keeps its memory; it learns it was failed over and becomes a replica)"

body = f'''
[workload]
kind = "open"
rate_per_s = 200
arrival = "constant"
request = "SET <prefix>:<seq> <seq> (unique key per write)"
client_timeout_ms = 1000
connect_timeout_ms = 1000
duration_s = 42.0
new_connection_per_request = false
client = "{client}"

[service]
latency_ms_p50 = {med("latency_ms_p50")}
latency_ms_p99 = {med("latency_ms_p99")}

[fault]
kind = "stop"
target = "{target}"
at_s = 8.0
recover_at_s = 30.0
recover = "{recover}"

[measured]
trials = {len(S)}
'''
for k in keys:
    body += f"{k} = {arr(k)}\n"
body += 'trial_notes = [' + ", ".join('""' for _ in S) + "]\n"
open(out, "w").write(head + body)
print(head + body)
