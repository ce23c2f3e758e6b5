# keepalived 2.2.7 (Debian 12) and link events: ka1 (MASTER 150) and ka2
# (BACKUP 100), advert_int 1, VIP 10.214.0.100 (setup.sh). Modes:
#   own      ka1's interface hkv1 goes down (ka1 tracks it: FAULT), 10 s later up
#   uplink   ka1 tracks hku1 unweighted; hku1 down (FAULT, priority-0 advert), up
#   weight   ka1 tracks hku1 weight -60; hku1 down (priority 90), up
# Prints when ka2 holds the VIP after the down and when ka1 holds it again
# after the up (ip addr polled every 5 ms), and whether both held it.
#   for m in own own own uplink uplink uplink weight weight weight; do python3 measure.py $m; done
import subprocess, time, sys, os, signal
D = '/tmp/kal'
os.makedirs(D, exist_ok=True)
mode = sys.argv[1]
track = {'own': '', 'uplink': 'track_interface {\n    hku1\n  }\n',
         'weight': 'track_interface {\n    hku1 weight -60\n  }\n'}[mode]
def conf(i, state, prio, extra):
    return f"""global_defs {{
  router_id hkl{i}
  enable_script_security
}}
vrrp_instance VI_1 {{
  state {state}
  interface hkv{i}
  virtual_router_id 214
  priority {prio}
  advert_int 1
  {extra}
  virtual_ipaddress {{
    10.214.0.100/24
  }}
}}
"""
open(f'{D}/ka1.conf', 'w').write(conf(1, 'MASTER', 150, track))
open(f'{D}/ka2.conf', 'w').write(conf(2, 'BACKUP', 100, ''))
def start(i):
    log = open(f'{D}/ka{i}-{mode}.log', 'w')
    return subprocess.Popen(['ip', 'netns', 'exec', f'hkl{i}', 'keepalived', '-n', '-l', '-D', '-P',
        '-f', f'{D}/ka{i}.conf', '-p', f'{D}/ka{i}.pid', '-r', f'{D}/vrrp{i}.pid'],
        stdout=log, stderr=subprocess.STDOUT)
def holds(i):
    out = subprocess.run(['ip', '-n', f'hkl{i}', '-4', 'addr', 'show', 'dev', f'hkv{i}'],
                         capture_output=True, text=True).stdout
    return '10.214.0.100' in out
def wait(cond, limit=30):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if cond():
            return time.monotonic()
        time.sleep(0.005)
    return None
link = 'hkv1' if mode == 'own' else 'hku1'
p1 = start(1)
wait(lambda: holds(1))
p2 = start(2)
time.sleep(6 + (time.time() % 1))  # a random place in the advert phase
assert holds(1) and not holds(2), (holds(1), holds(2))
t0 = time.monotonic()
subprocess.run(['ip', '-n', 'hkl1', 'link', 'set', link, 'down'], check=True)
t2 = wait(lambda: holds(2))
both = False
t_end = time.monotonic() + 10 - (time.monotonic() - t0)
while time.monotonic() < t_end:
    both |= holds(1) and holds(2)
    time.sleep(0.02)
# ka1's own address is on the interface that went down: `ip addr` still lists
# the VIP unless keepalived removed it.
held1_during = holds(1)
t1 = time.monotonic()
subprocess.run(['ip', '-n', 'hkl1', 'link', 'set', link, 'up'], check=True)
t3 = wait(lambda: holds(1))
print(mode, 'ka2 holds after %.3f s' % (t2 - t0) if t2 else 'ka2 never',
      '| ka1 holds again %.3f s after up' % (t3 - t1) if t3 else '| ka1 never',
      '| ka1 kept VIP while down:', held1_during, '| both:', both, flush=True)
for p in (p1, p2):
    try: os.kill(p.pid, signal.SIGTERM)
    except ProcessLookupError: pass
for p in (p1, p2):
    try: p.wait(5)
    except Exception: os.kill(p.pid, signal.SIGKILL)
