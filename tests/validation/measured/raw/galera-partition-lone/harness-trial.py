import subprocess, threading, time, sys, json, os
k = int(sys.argv[1]); out = f'/tmp/galiso/trial-{k}'
os.makedirs(out, exist_ok=True)
SOCK = '/tmp/galiso/n3/mysqld.sock'
def q(sql, timeout):
    t = time.time()
    try:
        p = subprocess.run(['mariadb', '-S', SOCK, '-uroot', '-N', '-e', sql], capture_output=True, text=True, timeout=timeout)
        rc, o, e = p.returncode, p.stdout.strip().replace('\n', ' '), p.stderr.strip().replace('\n', ' ')
    except subprocess.TimeoutExpired:
        rc, o, e = -1, '', 'client timeout'
    return t, time.time(), rc, o, e
reqs = []; polls = []; stop = False
def writer():
    n = 0
    while not stop:
        n += 1
        def one(n=n):
            reqs.append(q(f"INSERT INTO t.w(node) VALUES('g3-{k}-{n}')", 30))
        threading.Thread(target=one, daemon=True).start()
        time.sleep(0.2)
def poller():
    while not stop:
        polls.append(q("SHOW STATUS WHERE Variable_name IN ('wsrep_ready','wsrep_cluster_status','wsrep_cluster_size')", 5))
        time.sleep(0.1)
ths = [threading.Thread(target=writer), threading.Thread(target=poller)]
[t.start() for t in ths]
time.sleep(10)
RULES = [['-s', '127.0.0.183', '-d', '127.0.0.181,127.0.0.182'], ['-s', '127.0.0.181,127.0.0.182', '-d', '127.0.0.183']]
t0 = time.time()
for r in RULES:
    subprocess.run(['iptables', '-A', 'GALISO'] + r + ['-p', 'tcp', '-m', 'multiport', '--ports', '26267', '-j', 'DROP'], check=True)
t0b = time.time()
time.sleep(25)
subprocess.run(['iptables', '-F', 'GALISO'], check=True)
tr = time.time()
time.sleep(3)
stop = True
time.sleep(1.5)
json.dump({'t0': t0, 't0_rules_in': t0b, 'rules_removed': tr, 'reqs': sorted(reqs), 'polls': polls}, open(out + '/data.json', 'w'))
print('t0', t0, 'reqs', len(reqs), 'polls', len(polls))
