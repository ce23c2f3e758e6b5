#!/usr/bin/python3
"""Phases of switchover-trial.sh trials, in s from patronictl's start.
Usage: analyze-switchover.py DIR"""
import sys, glob, os, re, datetime, math
def ts(line):
    m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})', line)
    return datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f').replace(
        tzinfo=datetime.timezone.utc).timestamp() if m else None
def first(lines, t0, pat):
    for l in lines:
        t = ts(l)
        if t is not None and t >= t0 and pat in l: return t
    return math.nan
rows = []
for d in sorted(glob.glob(os.path.join(sys.argv[1], 'trial-*'))):
    c = open(d + '/ctl.txt').read()
    L = re.search(r'leader=(\S+)', c).group(1); C = re.search(r'candidate=(\S+)', c).group(1)
    t0 = float(re.search(r'started_at=(\S+)', c).group(1)); t1 = float(re.search(r'ended_at=(\S+)', c).group(1))
    l = open(f'{d}/{L}.log').read().splitlines(); cl = open(f'{d}/{C}.log').read().splitlines()
    req = first(l, t0, 'received switchover request')
    dem = first(l, t0, 'manual failover: demoting myself')
    sig = first(l, t0, 'received fast shutdown request')
    down = first(l, t0, 'database system is shut down')
    rel = first(l, t0, 'Leader key released')
    checks = [ts(x) for x in l if ts(x) and ts(x) >= t0 and 'Got response from ' + C in x]
    acq = first(cl, t0, 'acquiring leader lock')
    prom = first(cl, t0, 'promoted self to leader by acquiring session lock')
    ready = first(cl, t0, 'database system is ready to accept connections')
    listen = first(l, rel if not math.isnan(rel) else t0, 'listening on IPv4')
    ro = first(l, t0, 'ready to accept read-only connections')
    r = dict(trial=os.path.basename(d), leader=L, candidate=C, request=req - t0, candidate_checks=len(checks),
             demote=dem - t0, shutdown_signal=sig - t0, shut_down=down - t0, released=rel - t0,
             release_after_signal=rel - sig, new_leader_lock=acq - t0, new_primary_ready=ready - t0,
             old_listen=listen - t0, old_readonly_ready=ro - t0, patronictl_exit=t1 - t0)
    rows.append(r)
    print(' '.join(f'{a}={b:.3f}' if isinstance(b, float) else f'{a}={b}' for a, b in r.items()))
print('\n[measured]\ntrials = %d' % len(rows))
for k in rows[0]:
    if k == 'trial': continue
    v = [r[k] for r in rows]
    print(f'{k} = [' + ', '.join(f'"{x}"' if isinstance(x, str) else ('%.3f' % x if isinstance(x, float) else str(x)) for x in v) + ']')
