# Open-loop client: `rate` POST/s for `dur` s, a new connection each, gives
# up after `timeout` s and closes its socket (FIN). One CSV row per request.
import asyncio, sys, time
host, port, rate, dur, timeout, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
base = int(sys.argv[7]) if len(sys.argv) > 7 else 0
rows = []
async def one(op):
    start = time.time()
    w = None
    async def go():
        nonlocal w
        r, w = await asyncio.open_connection(host, port)
        w.write(b"POST / HTTP/1.1\r\nHost: t\r\nX-Op: %d\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % op)
        await w.drain()
        line = await r.readline()
        await r.read()
        return int(line.split()[1]) if line else -1
    try:
        status = await asyncio.wait_for(go(), timeout)
        outcome = "ok" if 200 <= status < 400 else ("http" if status > 0 else "closed")
    except asyncio.TimeoutError:
        status, outcome = 0, "timeout"
    except (ConnectionResetError, BrokenPipeError):
        status, outcome = 0, "reset"
    except Exception as e:
        status, outcome = 0, "error"
    if w is not None:
        w.close()
    rows.append((op, start, time.time(), outcome, status))
async def main():
    t0 = time.time()
    tasks = []
    n = int(rate * dur)
    for i in range(n):
        at = t0 + i / rate
        d = at - time.time()
        if d > 0:
            await asyncio.sleep(d)
        tasks.append(asyncio.create_task(one(base + i)))
    await asyncio.gather(*tasks)
    with open(out, "w") as f:
        f.write("op,start_s,end_s,outcome,status\n")
        for r in rows:
            f.write("%d,%.6f,%.6f,%s,%d\n" % r)
asyncio.run(main())
