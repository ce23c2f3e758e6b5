#!/usr/bin/python3
"""Figures of kill-trial.sh trials, relative to the kill instant.
Usage: analyze-kill.py DIR (with trial-*/). Prints one line per trial and a
TOML [measured] block; writes trial-k/requests.csv (start_s,end_s,outcome,
status,latency_ms relative to the kill, the FORMAT.md raw layout)."""
import sys, glob, os, re, datetime, math

def ts(line):
    m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})', line)
    if not m: return None
    return datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f').replace(
        tzinfo=datetime.timezone.utc).timestamp()

def first_after(lines, t0, pat):
    for l in lines:
        t = ts(l)
        if t is not None and t >= t0 and pat in l:
            return t
    return math.nan

rows = []
for d in sorted(glob.glob(os.path.join(sys.argv[1], 'trial-*')), key=lambda p: int(p.split('-')[-1])):
    kill = open(d + '/kill.txt').read()
    leader = re.search(r'leader=(\S+)', kill).group(1)
    k = float(re.search(r'killed_at=(\S+)', kill).group(1))
    lines = open(f'{d}/{leader}.log').read().splitlines()
    # HA cycles of the leader: each starts with "Lock owner" or "no action" or "Postgresql is not running"
    cycles = [ts(l) for l in lines if ts(l) and ts(l) > k and ('Lock owner:' in l or 'no action.' in l)]
    first_cycle = cycles[0] if cycles else math.nan
    miss = any('Error communicating with PostgreSQL' in l and ts(l) and k < ts(l) < first_cycle + 3 for l in lines)
    noticed = first_after(lines, k, 'Postgresql is not running')
    cr = first_after(lines, k, 'doing crash recovery in a single user mode')
    cr_end = first_after(lines, cr + 0.001, 'Postgresql is not running')
    ro = first_after(lines, k, 'starting as readonly because i had the session lock')
    listen = first_after(lines, k, 'listening on IPv4 address')
    ro_ready = first_after(lines, k, 'ready to accept read-only connections')
    prom = first_after(lines, k, 'promoted self to leader because I had the session lock')
    ready = first_after(lines, k, 'database system is ready to accept connections')
    # the port
    closed = opened = math.nan
    for l in open(d + '/port.log'):
        t, st = l.split()
        t = float(t)
        if st == 'refused' and t >= k - 0.05 and math.isnan(closed): closed = t
        if st == 'open' and t > k and math.isnan(opened): opened = t
    # the client
    cnt = {}; fails = []; out = []
    for l in list(open(d + '/client.csv'))[1:]:
        s, e, o, i, err = l.rstrip('\n').split(',', 4)
        s, e = float(s), float(e)
        cnt[o] = cnt.get(o, 0) + 1
        if o != 'ok': fails.append(s)
        out.append('%.4f,%.4f,%s,%s,%.1f' % (s - k, e - k, 'ok' if o == 'ok' else 'error', o, (e - s) * 1000))
    with open(d + '/requests.csv', 'w') as f:
        f.write('start_s,end_s,outcome,status,latency_ms\n' + '\n'.join(out) + '\n')
    r = dict(trial=d, leader=leader, first_cycle=first_cycle - k, missed_first_cycle=miss,
             noticed=noticed - k, crash_recovery_start=cr - k, crash_recovery_s=cr_end - cr,
             readonly_start=ro - k, listen=listen - k, readonly_ready=ro_ready - k,
             promote_cmd=prom - k, primary_ready=ready - k, port_closed=closed - k,
             port_open=opened - k, total=sum(cnt.values()), failed=len(fails),
             kinds=' '.join(f'{a}:{b}' for a, b in sorted(cnt.items()) if a != 'ok'),
             first_failure=min(fails) - k if fails else math.nan,
             last_failure=max(fails) - k if fails else math.nan)
    rows.append(r)
    print(' '.join(f'{a}={b:.3f}' if isinstance(b, float) else f'{a}={b}' for a, b in r.items()))

def arr(key, fmt='%.3f'):
    v = [r[key] for r in rows]
    return '[' + ', '.join('nan' if isinstance(x, float) and math.isnan(x) else (str(x).lower() if isinstance(x, bool) else (fmt % x if isinstance(x, float) else (f'"{x}"' if isinstance(x, str) else str(x)))) for x in v) + ']'
print('\n[measured]\ntrials = %d' % len(rows))
for key in ['total', 'failed', 'kinds', 'first_failure', 'last_failure', 'port_closed', 'port_open',
            'first_cycle', 'missed_first_cycle', 'noticed', 'crash_recovery_start', 'crash_recovery_s',
            'readonly_start', 'listen', 'readonly_ready', 'promote_cmd', 'primary_ready']:
    print(f'{key} = {arr(key)}')
