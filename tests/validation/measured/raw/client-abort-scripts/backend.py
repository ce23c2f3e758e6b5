# Slow HTTP backend: reads one request per connection, waits `service` s,
# then "commits" (records the op) and answers 200. Logs recv/commit times.
import asyncio, sys, time, signal
host, port, service, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rows = []
async def handle(r, w):
    try:
        head = await r.readuntil(b"\r\n\r\n")
    except Exception:
        w.close(); return
    recv = time.time()
    op = -1
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"x-op:"):
            op = int(line.split(b":")[1])
    await asyncio.sleep(service)
    rows.append((op, recv, time.time()))
    try:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await w.drain()
    except Exception:
        pass
    w.close()
async def main():
    srv = await asyncio.start_server(handle, host, port, backlog=511)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    with open(out, "w") as f:
        f.write("op,recv_s,commit_s\n")
        for op, a, b in rows:
            f.write(f"{op},{a:.6f},{b:.6f}\n")
asyncio.run(main())
