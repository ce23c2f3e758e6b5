import json, re, gzip, os, csv
res = {}
for k in range(1, 6):
    d = json.load(open(f'trial-{k}/data.json')); t0 = d['t0']
    r = {}
    lines = []
    for n in (1, 2, 3):
        for l in open(f'n{n}/log.txt'):
            ts, rest = l.split(' ', 1)
            rel = float(ts) - t0
            if -2 < rel < 32:
                lines.append((float(ts), rel, f'g{n}', rest.rstrip('\n')))
    lines.sort(key=lambda x: x[0])
    def first(node, pat, after=-1):
        for ts, rel, nd, rest in lines:
            if nd == node and rel > after and re.search(pat, rest):
                return round(rel, 3)
        return float('nan')
    r['suspect'] = first('g3', 'suspecting node')
    r['gather'] = first('g3', 'OPERATIONAL -> GATHER')
    r['install'] = first('g3', 'GATHER -> INSTALL')
    r['nonprim_view'] = first('g3', r'view\(view_id\(NON_PRIM')
    r['component_no'] = first('g3', 'New COMPONENT: primary = no')
    r['maj_suspect'] = min(first('g1', 'suspecting node'), first('g2', 'suspecting node'))
    r['maj_view'] = min(first('g1', r'view\(view_id\(PRIM.*'), first('g2', r'view\(view_id\(PRIM'))
    r['maj_component'] = min(first('g1', 'New COMPONENT: primary = yes.*memb_num = 2'), first('g2', 'New COMPONENT: primary = yes.*memb_num = 2'))
    r['rejoin_synced'] = first('g3', 'Synchronized with group', after=25)
    off = [p for p in d['polls'] if 'wsrep_ready\tOFF' in p[3]]
    r['not_ready_polled'] = round(off[0][1] - t0, 3) if off else float('nan')
    reqs = d['reqs']
    e1180 = [q for q in reqs if 'ERROR 1180' in q[4]]
    e1047 = [q for q in reqs if 'ERROR 1047' in q[4] and q[0] < t0 + 25]
    ok_after = [q for q in reqs if q[2] == 0 and q[0] >= t0]
    r['first_hung_start'] = round(min(q[0] for q in e1180) - t0, 3) if e1180 else float('nan')
    r['err1180_count'] = len(e1180)
    r['err1180_first_end'] = round(min(q[1] for q in e1180) - t0, 3) if e1180 else float('nan')
    r['err1180_last_end'] = round(max(q[1] for q in e1180) - t0, 3) if e1180 else float('nan')
    r['first_1047_end'] = round(min(q[1] for q in e1047) - t0, 3) if e1047 else float('nan')
    r['err1047_count'] = len(e1047)
    r['ok_after_fault_before_25'] = len([q for q in ok_after if q[0] < t0 + 25])
    r['last_ok_start'] = round(max([q[0] for q in reqs if q[2] == 0 and q[0] < t0 + 1], default=float('nan')) - t0, 3)
    r['requests_in_window'] = len([q for q in reqs if t0 <= q[0] < t0 + 25])
    res[k] = r
    os.makedirs(f'raw/galera-partition-lone', exist_ok=True)
    with gzip.open(f'raw/galera-partition-lone/trial-{k}-logs.txt.gz', 'wt') as f:
        for ts, rel, nd, rest in lines:
            f.write('%+.3f %s %s\n' % (rel, nd, rest))
    with gzip.open(f'raw/galera-partition-lone/trial-{k}.csv.gz', 'wt') as f:
        w = csv.writer(f); w.writerow(['start_s', 'end_s', 'outcome', 'status', 'latency_ms'])
        for s, e, rc, o, err in reqs:
            m = re.search(r'ERROR (\d+)', err)
            outcome = 'ok' if rc == 0 else ('timeout' if rc == -1 else 'error')
            w.writerow(['%.3f' % (s - t0), '%.3f' % (e - t0), outcome, m.group(1) if m else ('0' if rc == 0 else ''), '%.1f' % ((e - s) * 1000)])
    with gzip.open(f'raw/galera-partition-lone/trial-{k}-polls.csv.gz', 'wt') as f:
        w = csv.writer(f); w.writerow(['start_s', 'end_s', 'rc', 'status'])
        for s, e, rc, o, err in d['polls']:
            w.writerow(['%.3f' % (s - t0), '%.3f' % (e - t0), rc, o or err])
keys = list(res[1].keys())
for key in keys:
    print(key, [res[k][key] for k in range(1, 6)])
