#!/usr/bin/python3
"""Analyses bh-trial.sh outputs. Usage: bh-analyze.py TRIALDIR...
Per trial: requests, acknowledged ids, acknowledged ids missing from the
final primary's table (and when they were acknowledged, relative to the
cut), and the times (relative to the cut) of the Patroni / postgres / etcd
log events that tell the mechanism."""
import sys, re, csv, datetime, json, base64

PAT = [  # (label, node log, regex); first match after the cut
    ('demote_offline', 'n1', r'Demoting self \(offline\)'),
    ('n1_loop_stuck_end', 'n1', r'Loop time exceeded'),
    ('n1_restart_as_replica', 'n1', r'demoted self because DCS is not accessible'),
    ('n1_promote', 'n1', r'(promoted self to leader|acquired session lock as a leader)'),
    ('n1_following', 'n1', r'following a leader \(n[23]\)|following new leader'),
    ('n1_rewind', 'n1', r'running pg_rewind|rewind (succeeded|failed)'),
    ('n2_promote', 'n2', r'promoted self to leader'),
    ('n3_promote', 'n3', r'promoted self to leader'),
    ('n2_demote', 'n2', r'Demoting self'),
    ('n3_demote', 'n3', r'Demoting self'),
    ('n2_rewind', 'n2', r'running pg_rewind|rewind (succeeded|failed)'),
    ('n3_rewind', 'n3', r'running pg_rewind|rewind (succeeded|failed)'),
    ('n2_after_demote_timeline', 'n2', r'Local timeline=[2-9]'),
]
PGPAT = [
    ('fast_shutdown', 'n1', r'received fast shutdown request'),
    ('shutdown_done', 'n1', r'database system is shut down'),
    ('n1_ready_rw', 'n1', r'database system is ready to accept connections'),
    ('n1_selected_timeline', 'n1', r'selected new timeline ID'),
]

def ts_patroni(line):
    m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)', line)
    return datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc).timestamp() if m else None

def ts_pg(line):
    m = re.match(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (UTC|GMT)', line)
    return datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc).timestamp() if m else None

def first(path, rx, t0, parse):
    try:
        for line in open(path, errors='replace'):
            t = parse(line)
            if t is not None and t >= t0 and re.search(rx, line):
                return round(t - t0, 3), line.strip()[:160]
    except FileNotFoundError:
        pass
    return None, ''

toml_mode = sys.argv[1] == '--toml'
out = []
for d in [a for a in sys.argv[1:] if a != '--toml']:
    txt = open(d + '/cut.txt').read()
    cut = dict(kv.split('=', 1) for kv in txt.split() if '=' in kv)
    cut['final_primaries'] = ' '.join('n' + k for k in re.search(r'final_primaries=(.*)', txt).group(1).split())
    tc, th = float(cut['cut_at']), float(cut['heal_at'])
    rows = list(csv.DictReader(open(d + '/client.csv')))
    acked = {int(r['id']): float(r['end_epoch']) for r in rows if r['outcome'] == 'ok'}
    try:
        final = set(int(x) for x in open(d + '/final-ids.txt').read().split())
    except FileNotFoundError:
        final = set()
    missing = sorted(i for i in acked if i not in final)
    kinds = {}
    for r in rows:
        if r['outcome'] != 'ok':
            kinds[r['outcome']] = kinds.get(r['outcome'], 0) + 1
    res = {'trial': d, 'leader': cut['leader'], 'H': float(cut['H']), 'heal_s': round(th - tc, 3),
           'final_primaries': cut.get('final_primaries', ''), 'requests': len(rows), 'acked': len(acked),
           'failed': len(rows) - len(acked), 'failure_kinds': kinds,
           'acked_missing': len(missing),
           'missing_acked_from_s': round(acked[missing[0]] - tc, 3) if missing else None,
           'missing_acked_to_s': round(acked[missing[-1]] - tc, 3) if missing else None,
           'unacked_present': len(final - set(acked))}
    for lab, n, rx in PAT:
        res[lab] = first(f'{d}/{n}.log', rx, tc, ts_patroni)
    for lab, n, rx in PGPAT:
        res[lab] = first(f'{d}/pg-{n}.log', rx, tc, ts_pg)
    for j in (1, 2):  # etcd v3 gateway watch of the leader key, one JSON line per response
        ev = []
        try:
            for line in open(f'{d}/watch-e{j}.log'):
                p = line.split(' ', 1)
                try:
                    r = json.loads(p[1])['result']
                except (IndexError, ValueError, KeyError):
                    continue
                for e in r.get('events', []):
                    v = base64.b64decode(e['kv'].get('value', '')).decode() if e['kv'].get('value') else ''
                    ev.append((round(float(p[0]) - tc, 3), e.get('type', 'PUT'), v, int(e['kv'].get('mod_revision', 0))))
        except FileNotFoundError:
            pass
        res[f'watch_e{j}'] = ev
    out.append(res)

if not toml_mode:
    print(json.dumps(out, indent=1))
else:  # the [measured] arrays of tests/validation/measured/patroni-3.0.2-blackhole.toml
    def arr(f):
        return '[' + ', '.join(f(r) for r in out) + ']'
    def num(k):
        return arr(lambda r: 'nan' if r[k][0] is None else '%.3f' % r[k][0])
    print('trials = %d' % len(out))
    print('heal_after_s = ' + arr(lambda r: '%.3f' % r['heal_s']))
    for k in ('requests', 'acked', 'failed', 'acked_missing', 'unacked_present'):
        print('%s = %s' % ({'acked': 'requests_ok', 'failed': 'requests_failed', 'acked_missing': 'acked_writes_lost',
                            'unacked_present': 'unacked_writes_present'}.get(k, 'requests_total'), arr(lambda r: str(r[k]))))
    print('failure_kinds = ' + arr(lambda r: '"' + ' '.join('%s:%d' % kv for kv in sorted(r['failure_kinds'].items())) + '"'))
    print('lost_acked_from_s = ' + arr(lambda r: 'nan' if r['missing_acked_from_s'] is None else '%.3f' % r['missing_acked_from_s']))
    print('lost_acked_to_s = ' + arr(lambda r: 'nan' if r['missing_acked_to_s'] is None else '%.3f' % r['missing_acked_to_s']))
    print('final_primary = ' + arr(lambda r: '"%s"' % r['final_primaries']))
    for k in ('demote_offline', 'fast_shutdown', 'shutdown_done', 'n1_restart_as_replica', 'n2_promote', 'n3_promote',
              'n1_promote', 'n1_ready_rw', 'n2_demote', 'n3_demote'):
        print('%s_s = %s' % (k, num(k)))
