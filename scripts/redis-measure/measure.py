#!/usr/bin/python3
"""Measure Redis 7 Sentinel / Cluster with a SIGSTOPped master (issue 12 point 7).

Usage: measure.py sentinel|cluster TRIAL OUTDIR
Runs its own redis-server / redis-sentinel processes on 127.0.0.6x loopback
addresses, a redis-py client writing ~200 unique SET/s (open loop, constant
arrivals, 200 worker threads, 1 s timeouts, no retries), SIGSTOPs the master
at t=8 s, SIGCONTs it at t=30 s, stops the load at 42 s, reads back every
acknowledged key, and writes OUTDIR/trial-N.csv (times relative to the
fault), OUTDIR/trial-N-server-logs.txt and OUTDIR/trial-N.json (summary).
Processes it started are ended by their PID only.
"""
import concurrent.futures as cf
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import redis  # redis-py 8.1.0 (pip install --target DIR redis==8.1.0; PYTHONPATH=DIR), as the public cases
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel, MasterNotFoundError
from redis.cluster import RedisCluster, ClusterNode

FAULT_AT, RECOVER_AT, DURATION, RATE = 8.0, 30.0, 42.0, 200
BASE = "/tmp/redisval-measure"

SENT_HOSTS = ["127.0.0.61", "127.0.0.62", "127.0.0.63"]
SENT_REDIS_PORT, SENT_PORT = 24001, 24051

REDIS_SENT_CONF = """bind {ip}
bind-source-addr {ip}
port {port}
protected-mode no
daemonize no
dir {dir}
logfile ""
save ""
appendonly no
repl-diskless-sync yes
repl-diskless-sync-delay 0
replica-announce-ip {ip}
min-replicas-to-write 0
min-replicas-max-lag 10
"""
SENTINEL_CONF = """bind {ip}
bind-source-addr {ip}
port {port}
protected-mode no
daemonize no
dir {dir}
logfile ""
sentinel announce-ip {ip}
sentinel monitor mymaster {mip} {mport} 2
sentinel down-after-milliseconds mymaster 5000
sentinel failover-timeout mymaster 60000
sentinel parallel-syncs mymaster 1
"""
CLUSTER_CONF = """bind {ip}
bind-source-addr {ip}
port {port}
cluster-port {bus}
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 5000
cluster-announce-ip {ip}
protected-mode no
daemonize no
dir {dir}
logfile ""
save ""
appendonly no
repl-diskless-sync yes
repl-diskless-sync-delay 0
"""
# VM1=.65: master A + replica of C; VM2=.66: master B + replica of A;
# VM3=.67: master C + replica of B (the public case's layout)
CL_MASTERS = [("127.0.0.65", 24101), ("127.0.0.66", 24102), ("127.0.0.67", 24103)]
CL_REPLICAS = [("127.0.0.66", 24111, 0), ("127.0.0.67", 24112, 1), ("127.0.0.65", 24113, 2)]

procs = []  # (name, Popen, logfile path)


def start(name, binary, conf_text, d):
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "node.conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    log = os.path.join(d, "out.log")
    p = subprocess.Popen([binary, conf], stdout=open(log, "w"), stderr=subprocess.STDOUT)
    procs.append((name, p, log))
    return p


def wait_port(ip, port, t=10):
    end = time.time() + t
    while time.time() < end:
        try:
            socket.create_connection((ip, port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{ip}:{port} not up")


def cleanup():
    for name, p, _ in procs:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def classify(e):
    s = f"{type(e).__name__}: {e}"
    if isinstance(e, MasterNotFoundError):
        return "no-master"
    if "READONLY" in s:
        return "readonly"
    if "CLUSTERDOWN" in s or type(e).__name__ == "ClusterDownError":
        return "CLUSTERDOWN"
    if "refused" in s.lower():
        return "refused"
    if "reset" in s.lower() or "closed" in s.lower() or "broken pipe" in s.lower():
        return "reset"
    if "timeout" in s.lower() or "timed out" in s.lower():
        return "timeout"
    return "other:" + type(e).__name__


def run_load(client, t0, prefix, on_tick):
    """Open loop: one SET every 1/RATE s from t0 to t0+DURATION."""
    rows = []
    lock = threading.Lock()

    def one(seq):
        s = time.time()
        try:
            r = client.set(f"{prefix}:{seq}", str(seq))
            outcome, status = ("ok", "ok") if r else ("error", "nil")
        except Exception as e:  # noqa
            outcome, status = "error", classify(e)
        e_ = time.time()
        with lock:
            rows.append([seq, s - t0, e_ - t0, outcome, status, (e_ - s) * 1000])

    n = int(DURATION * RATE)
    with cf.ThreadPoolExecutor(max_workers=200) as ex:
        for seq in range(n):
            due = t0 + seq / RATE
            now = time.time()
            if due > now:
                time.sleep(due - now)
            on_tick(time.time() - t0)
            ex.submit(one, seq)
    return rows


def log_events(logs, t_fault, pattern):
    """(seconds rel. to fault, source, line) of log lines matching pattern.
    Redis logs 'pid:X DD Mon YYYY HH:MM:SS.mmm ...' in local time."""
    out = []
    for name, _, path in procs:
        for line in open(path, errors="replace"):
            m = re.search(r"(\d+ \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3})", line)
            if not m or not re.search(pattern, line):
                continue
            ts = time.mktime(time.strptime(m.group(1)[:-4], "%d %b %Y %H:%M:%S")) + int(m.group(1)[-3:]) / 1000
            out.append((round(ts - t_fault, 3), name, line.strip()))
    out.sort()
    return out


def sentinel_trial(trial, outdir):
    d = f"{BASE}/sentinel-{trial}"
    shutil.rmtree(d, ignore_errors=True)
    mip = SENT_HOSTS[0]
    for i, ip in enumerate(SENT_HOSTS):
        conf = REDIS_SENT_CONF.format(ip=ip, port=SENT_REDIS_PORT, dir=f"{d}/redis{i+1}")
        if i:
            conf += f"replicaof {mip} {SENT_REDIS_PORT}\n"
        start(f"redis{i+1}", "/usr/bin/redis-server", conf, f"{d}/redis{i+1}")
    for ip in SENT_HOSTS:
        wait_port(ip, SENT_REDIS_PORT)
    for i, ip in enumerate(SENT_HOSTS):
        start(f"sentinel{i+1}", "/usr/bin/redis-sentinel",
              SENTINEL_CONF.format(ip=ip, port=SENT_PORT, dir=f"{d}/sentinel{i+1}", mip=mip, mport=SENT_REDIS_PORT),
              f"{d}/sentinel{i+1}")
    for ip in SENT_HOSTS:
        wait_port(ip, SENT_PORT)
    # wait until every sentinel knows 2 replicas and 2 other sentinels
    end = time.time() + 30
    while time.time() < end:
        ok = True
        for ip in SENT_HOSTS:
            m = redis.Redis(ip, SENT_PORT).sentinel_master("mymaster")
            ok &= m["num-slaves"] == 2 and m["num-other-sentinels"] == 2
        if ok:
            break
        time.sleep(0.2)
    time.sleep(2)
    sentinel = Sentinel([(ip, SENT_PORT) for ip in SENT_HOSTS], socket_timeout=0.3)
    client = sentinel.master_for("mymaster", socket_timeout=1.0, socket_connect_timeout=1.0,
                                 retry=Retry(NoBackoff(), 0), max_connections=400)
    client.ping()
    master_proc = procs[0][1]
    state = {"stopped": False, "cont": False}
    t0 = time.time()
    t_fault = t0 + FAULT_AT

    def tick(t):
        if not state["stopped"] and t >= FAULT_AT:
            os.kill(master_proc.pid, signal.SIGSTOP)
            state["stopped"] = time.time()
        if not state["cont"] and t >= RECOVER_AT:
            os.kill(master_proc.pid, signal.SIGCONT)
            state["cont"] = time.time()

    rows = run_load(client, t0, f"s{trial}", tick)
    t_fault = state["stopped"]
    t_rec = state["cont"]
    time.sleep(3)
    # read back from the current master
    mh = redis.Redis(SENT_HOSTS[0], SENT_PORT).sentinel_get_master_addr_by_name("mymaster")
    rd = redis.Redis(mh[0], int(mh[1]), socket_timeout=5)
    summary = finish(rows, rd, f"s{trial}", t_fault, t_rec, trial, outdir)
    ev = log_events(None, t_fault, r"\+sdown master|\+odown|\+switch-master|\+convert-to-slave|\+try-failover|\+elected-leader|\+promoted-slave|\+failover-end|-sdown master")
    summary["events"] = ev
    first = lambda pat: next((t for t, _, l in ev if re.search(pat, l) and t > -1), float("nan"))
    summary["detected_down_s"] = first(r"\+sdown master")
    summary["odown_s"] = first(r"\+odown")
    summary["switch_master_s"] = first(r"\+switch-master")
    conv = first(r"\+convert-to-slave")
    summary["recovered_up_s"] = round(conv - (t_rec - t_fault), 3)
    summary["new_master"] = mh[0].decode() if isinstance(mh[0], bytes) else mh[0]
    return summary


def cluster_trial(trial, outdir):
    d = f"{BASE}/cluster-{trial}"
    shutil.rmtree(d, ignore_errors=True)
    allnodes = [(ip, p) for ip, p in CL_MASTERS] + [(ip, p) for ip, p, _ in CL_REPLICAS]
    names = ["A", "B", "C", "replA", "replB", "replC"]
    for (ip, p), n in zip(allnodes, names):
        start(n, "/usr/bin/redis-server", CLUSTER_CONF.format(ip=ip, port=p, bus=p + 100, dir=f"{d}/{n}"), f"{d}/{n}")
    for ip, p in allnodes:
        wait_port(ip, p)
    subprocess.run(["redis-cli", "--cluster", "create"] + [f"{ip}:{p}" for ip, p in CL_MASTERS] +
                   ["--cluster-replicas", "0", "--cluster-yes"], check=True, stdout=subprocess.DEVNULL)
    ids = [redis.Redis(ip, p).execute_command("CLUSTER MYID").decode() for ip, p in CL_MASTERS]
    for ip, p, mi in CL_REPLICAS:
        r = redis.Redis(ip, p)
        r.execute_command("CLUSTER MEET", CL_MASTERS[0][0], CL_MASTERS[0][1], CL_MASTERS[0][1] + 100)
        end = time.time() + 20
        while time.time() < end:
            try:
                r.execute_command("CLUSTER REPLICATE", ids[mi])
                break
            except redis.ResponseError:
                time.sleep(0.2)
    end = time.time() + 40
    while time.time() < end:
        ok = all(redis.Redis(ip, p).cluster("info")["cluster_state"] == "ok" for ip, p in allnodes)
        ok &= all(redis.Redis(ip, p).info("replication").get("master_link_status") == "up" for ip, p, _ in CL_REPLICAS)
        if ok:
            break
        time.sleep(0.2)
    time.sleep(3)
    client = RedisCluster(startup_nodes=[ClusterNode(ip, p) for ip, p in CL_MASTERS],
                          socket_timeout=1.0, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0))
    client.ping()
    b = procs[1][1]
    state = {"stopped": False, "cont": False}
    t0 = time.time()

    def tick(t):
        if not state["stopped"] and t >= FAULT_AT:
            os.kill(b.pid, signal.SIGSTOP)
            state["stopped"] = time.time()
        if not state["cont"] and t >= RECOVER_AT:
            os.kill(b.pid, signal.SIGCONT)
            state["cont"] = time.time()

    rows = run_load(client, t0, f"c{trial}", tick)
    t_fault, t_rec = state["stopped"], state["cont"]
    time.sleep(3)
    rd = RedisCluster(startup_nodes=[ClusterNode(ip, p) for ip, p in CL_MASTERS], socket_timeout=5)
    summary = finish(rows, rd, f"c{trial}", t_fault, t_rec, trial, outdir)
    ev = log_events(None, t_fault, r"Cluster state changed|FAIL message received|Failover election won|Marking node|Configuration change detected|Setting secondary replication ID|MASTER <-> REPLICA sync: Finished|Connecting to MASTER|Clear FAIL state")
    summary["events"] = ev
    first = lambda pat, who=None: next((t for t, n, l in ev if re.search(pat, l) and t > 0 and (who is None or n in who)), float("nan"))
    summary["detected_down_s"] = first(r"Cluster state changed: fail|FAIL message received .* about|Marking node .* as failing")
    summary["cluster_state_fail_s"] = first(r"Cluster state changed: fail")
    summary["failover_election_won_s"] = first(r"Failover election won")
    summary["cluster_state_ok_s"] = first(r"Cluster state changed: ok")
    rel_rec = t_rec - t_fault
    summary["recovered_up_s"] = round(next((t for t, n, l in ev if n == "B" and t > rel_rec and re.search(r"Configuration change detected|Connecting to MASTER", l)), float("nan")) - rel_rec, 3)
    return summary


def finish(rows, rd, prefix, t_fault, t_rec, trial, outdir):
    rows.sort()
    t0 = t_fault - FAULT_AT
    shift = t_fault - t0
    lost = 0
    out = []
    for seq, s, e, outcome, status, lat in rows:
        if outcome == "ok":
            v = rd.get(f"{prefix}:{seq}")
            if v is None or v.decode() != str(seq):
                status = "lost"
                lost += 1
        out.append((s - shift, e - shift, outcome, status, lat))
    rec = t_rec - t_fault
    with open(f"{outdir}/trial-{trial}.csv", "w") as f:
        f.write("start_s,end_s,outcome,status,latency_ms\n")
        for s, e, o, st, lat in out:
            f.write(f"{s:.4f},{e:.4f},{o},{st},{lat:.3f}\n")
    fails = [r for r in out if r[2] != "ok"]
    kinds = {}
    for r in fails:
        kinds[r[3]] = kinds.get(r[3], 0) + 1
    before = [r for r in fails if r[0] < rec]
    healthy = sorted(r[4] for r in out if r[0] < -1 and r[2] == "ok")
    win = sorted(r[4] for r in out if 0 <= r[0] < rec)
    lost_rows = [r for r in out if r[3] == "lost"]
    return {
        "requests_total": len(out),
        "requests_failed": len(fails),
        "requests_failed_before_recover": len(before),
        "requests_failed_after_recover": len(fails) - len(before),
        "failure_kinds": " ".join(f"{k}:{v}" for k, v in sorted(kinds.items())),
        "writes_lost": lost,
        "writes_lost_after_recover": sum(1 for r in lost_rows if r[0] >= rec),
        "lost_last_ack_s": round(max(r[1] for r in lost_rows), 3) if lost_rows else float("nan"),
        "first_failure_s": round(min(r[0] for r in before), 3) if before else float("nan"),
        "last_failure_s": round(max(r[0] for r in before), 3) if before else float("nan"),
        "last_failure_end_s": round(max(r[1] for r in before), 3) if before else float("nan"),
        "first_failure_after_recover_s": round(min(r[0] for r in fails if r[0] >= rec) - rec, 3) if len(fails) > len(before) else float("nan"),
        "latency_ms_p50": healthy[len(healthy) // 2],
        "latency_ms_p99": healthy[int(len(healthy) * 0.99)],
        "latency_ms_p99_in_window": round(win[int(len(win) * 0.99)], 1) if win else float("nan"),
        "fault_to_recover_s": round(rec, 3),
    }


def main():
    kind, trial, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(outdir, exist_ok=True)
    try:
        s = (sentinel_trial if kind == "sentinel" else cluster_trial)(trial, outdir)
    finally:
        cleanup()
        with open(f"{outdir}/trial-{trial}-server-logs.txt", "w") as f:
            for name, _, path in procs:
                for line in open(path, errors="replace"):
                    f.write(f"{name}: {line}")
    with open(f"{outdir}/trial-{trial}.json", "w") as f:
        json.dump(s, f, indent=1, default=str)
    print(json.dumps({k: v for k, v in s.items() if k != "events"}))
    for ev in s["events"]:
        print(ev)


if __name__ == "__main__":
    main()
