# Measures keepalived 2.2.7 (Debian 12) failover between two network
# namespaces joined by a veth pair (setup.sh, run once as root; teardown:
# ip netns del hka1; ip netns del hka2). ka1 (MASTER, priority 150) and
# ka2 (BACKUP, 100), advert_int 1, VIP 10.213.0.100. Mode `stop`: SIGSTOP of
# ka1's VRRP process (silent master keeping its address); `term`: SIGTERM of
# ka1 (clean stop, priority-0 advert). Prints the time until ka2 holds the
# VIP (polled every 5 ms with `ip addr`, which adds ~10-60 ms).
#   for m in stop stop stop term term; do python3 measure.py $m; done
import subprocess, time, sys, os, signal
def start(i):
    log = open(f'/tmp/kav/ka{i}.log','w')
    p = subprocess.Popen(['ip','netns','exec',f'hka{i}','keepalived','-n','-l','-D','-P',
        '-f',f'/tmp/kav/ka{i}.conf','-p',f'/tmp/kav/ka{i}.pid','-r',f'/tmp/kav/vrrp{i}.pid'],
        stdout=log, stderr=subprocess.STDOUT)
    return p
def holds(i):
    out = subprocess.run(['ip','-n',f'hka{i}','-4','addr','show','dev',f'hkv{i}'],capture_output=True,text=True).stdout
    return '10.213.0.100' in out
def wait(cond, limit=30):
    t0=time.monotonic()
    while time.monotonic()-t0 < limit:
        if cond(): return time.monotonic()
        time.sleep(0.005)
    return None
def vrrp_pid(i):
    return int(open(f'/tmp/kav/vrrp{i}.pid').read())
mode = sys.argv[1]
p1 = start(1)
t = wait(lambda: holds(1))
p2 = start(2)
time.sleep(6)  # backup settled, adverts flowing
assert holds(1) and not holds(2), (holds(1), holds(2))
v1 = vrrp_pid(1)
t0 = time.monotonic()
if mode == 'stop':     # master silent (SIGSTOP of its vrrp child), VIP stays
    os.kill(v1, signal.SIGSTOP)
elif mode == 'term':   # clean stop: priority-0 advert
    os.kill(p1.pid, signal.SIGTERM)
t2 = wait(lambda: holds(2))
print(mode, 'backup holds VIP after %.3f s' % (t2 - t0) if t2 else 'never')
both = holds(1) and holds(2)
print('both hold:', both)
if mode == 'stop':
    os.kill(v1, signal.SIGCONT)
for p in (p1, p2):
    try: os.kill(p.pid, signal.SIGTERM)
    except ProcessLookupError: pass
for p in (p1, p2):
    try: p.wait(5)
    except Exception: os.kill(p.pid, signal.SIGKILL)
