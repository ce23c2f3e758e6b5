import csv, re, statistics, json
from collections import Counter
res={}
for case in ["haproxy-queue-client-gone","haproxy-queue-abortonclose","nginx-client-gone","nginx-ignore-client-abort"]:
    R=res[case]={k:[] for k in ["requests_total","requests_failed","failed_but_committed","backend_requests","backend_received_after_client_left","patient_latency_ms_p50","patient_latency_ms_max","log_states"]}
    for k in (1,2,3):
        d=f"/tmp/abortm/out/{case}"
        c={int(r['op']):r for r in csv.DictReader(open(f"{d}/client-{k}.csv"))}
        allc=dict(c)
        try:
            p={int(r['op']):r for r in csv.DictReader(open(f"{d}/patient-{k}.csv"))}
            allc.update(p)
        except FileNotFoundError:
            p=None
        b=list(csv.DictReader(open(f"{d}/backend-{k}.csv")))
        R["requests_total"].append(len(c))
        R["requests_failed"].append(sum(1 for r in c.values() if r['outcome']!='ok'))
        R["failed_but_committed"].append(sum(1 for r in b if allc[int(r['op'])]['outcome']!='ok'))
        R["backend_requests"].append(len(b))
        R["backend_received_after_client_left"].append(sum(1 for r in b if int(r['op'])<100000 and float(r['recv_s'])>float(c[int(r['op'])]['start_s'])+1.0))
        if p:
            lat=[(float(r['end_s'])-float(r['start_s']))*1000 for r in p.values() if r['outcome']=='ok']
            R["patient_latency_ms_p50"].append(round(statistics.median(lat),1))
            R["patient_latency_ms_max"].append(round(max(lat),1))
            assert len(lat)==len(p)
        if case.startswith("haproxy"):
            log=open(f"{d}/haproxy-{k}.log").read()
            st=Counter(f"{s}:{t}" for s,t in re.findall(r' (-?\d+) \d+ - - (\S\S)', log))
        else:
            st=Counter(l.split('"')[2].split()[0] for l in open(f"{d}/ng/logs/access-{k}.log").read().splitlines())
        R["log_states"].append(" ".join(f"{a}={b}" for a,b in sorted(st.items())))
    print(case, json.dumps(R))
json.dump(res,open('/tmp/abortm/res.json','w'))
