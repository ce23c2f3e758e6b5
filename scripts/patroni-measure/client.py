#!/usr/bin/python3
"""Open-loop INSERT load on one PostgreSQL address: RATE requests/s, each a
new connection (connect_timeout CT s) + INSERT of a unique id, autocommit.
One CSV row per request: start_epoch,end_epoch,outcome,id,error.
outcome: ok | refused | starting | shutdown | recovery | readonly | timeout | other.
Usage: client.py HOST PORT RATE DURATION_S OUT.csv [FIRST_ID]"""
import sys, time, threading, socket, psycopg2
from concurrent.futures import ThreadPoolExecutor

host, port, rate, dur, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
first = int(sys.argv[6]) if len(sys.argv) > 6 else 1
CT = 2
lock = threading.Lock()
rows = []

def kind(msg):
    m = msg.lower()
    if 'connection refused' in m: return 'refused'
    if 'starting up' in m: return 'starting'
    if 'shutting down' in m: return 'shutdown'
    if 'in recovery' in m or 'not yet accepting' in m: return 'recovery'
    if 'read-only' in m: return 'readonly'
    if 'timeout' in m or 'timed out' in m: return 'timeout'
    return 'other'

def one(i):
    t0 = time.time()
    try:
        c = psycopg2.connect(host=host, port=port, dbname='postgres', user='postgres',
                             password='pg-pass', connect_timeout=CT,
                             options='-c statement_timeout=2000')
        c.autocommit = True
        cur = c.cursor()
        cur.execute('INSERT INTO w(id) VALUES (%s)', (i,))
        c.close()
        r = (t0, time.time(), 'ok', i, '')
    except Exception as e:
        msg = str(e).strip().replace('\n', ' ').replace(',', ';')[:160]
        r = (t0, time.time(), kind(msg), i, msg)
    with lock:
        rows.append(r)

pool = ThreadPoolExecutor(max_workers=64)
start = time.time()
n = int(rate * dur)
for k in range(n):
    at = start + k / rate
    d = at - time.time()
    if d > 0: time.sleep(d)
    pool.submit(one, first + k)
pool.shutdown(wait=True)
with open(out, 'w') as f:
    f.write('start_epoch,end_epoch,outcome,id,error\n')
    for r in sorted(rows):
        f.write('%.4f,%.4f,%s,%d,%s\n' % r)
