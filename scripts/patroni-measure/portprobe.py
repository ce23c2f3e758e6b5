#!/usr/bin/python3
"""Every 20 ms: TCP connect to HOST:PORT; logs each change of state
(open / refused / timeout) with its epoch time. Usage: portprobe.py HOST PORT DURATION_S OUT"""
import sys, socket, time
host, port, dur, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
end = time.time() + dur
last = None
with open(out, 'w') as f:
    while time.time() < end:
        t = time.time()
        s = socket.socket(); s.settimeout(0.5)
        try:
            s.connect((host, port)); st = 'open'
        except ConnectionRefusedError: st = 'refused'
        except OSError as e: st = 'err:' + type(e).__name__
        s.close()
        if st != last:
            f.write('%.4f %s\n' % (t, st)); f.flush(); last = st
        time.sleep(0.02)
