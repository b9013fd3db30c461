#!/usr/bin/env python3
"""Writes alerts.test.yml (promtool test rules for compose/config/alerts.yml): every scenario
checks every alert. Run it after changing a rule: python3 tests/unit/prometheus/generate.py"""
N=100
healthy_members = [('a',1,0),('b',0,1),('c',0,1)]
def x(v): return f'{v}x{N}'
def member_series(over={}):
    out=[]
    for n,p,r in healthy_members:
        lab=f'job="patroni",instance="{n}:8008",node="{n}"'
        d=dict(up=x(1), primary=x(p), replica=x(r), xlog=x(1000000000 if p else 0), replayed=x(0 if p else 1000000000), streaming=x(0 if p else 1), timeline=x(2))
        d.update(over.get(n,{}))
        for metric,key in [('up','up'),('patroni_primary','primary'),('patroni_replica','replica'),('patroni_xlog_location','xlog'),('patroni_xlog_replayed_location','replayed'),('patroni_postgres_streaming','streaming'),('patroni_postgres_timeline','timeline')]:
            if d[key] is None: continue
            out.append(f"      - series: '{metric}{{{lab}}}'\n        values: '{d[key]}'")
    return out
def etcd_series(over={}):
    out=[]
    for n in 'abc':
        lab=f'job="etcd",instance="{n}:2379",node="{n}"'
        d=dict(up=x(1), leader=x(1)); d.update(over.get(n,{}))
        out += [f"      - series: 'up{{{lab}}}'\n        values: '{d['up']}'", f"      - series: 'etcd_server_has_leader{{{lab}}}'\n        values: '{d['leader']}'"]
    return out
def disk_series(avail=50):
    out=[]
    for n in 'abc':
        lab=f'job="node",instance="{n}:9100",node="{n}",mountpoint="/",fstype="ext4",device="/dev/sda1"'
        out += [f"      - series: 'node_filesystem_avail_bytes{{{lab}}}'\n        values: '{x(avail if n=='c' else 50)}'",
                f"      - series: 'node_filesystem_size_bytes{{{lab}}}'\n        values: '{x(100)}'"]
    return out
def edge_series(success=x(1), expiry_days=60, issuer='acme', up=x(1)):
    lab=f'job="edge",instance="https://10.0.0.1/api/health",node="a",issuer="{issuer}"'
    out=[f"      - series: 'up{{{lab}}}'\n        values: '{up}'"]
    if success is not None:
        out += [f"      - series: 'probe_success{{{lab}}}'\n        values: '{success}'",
                f"      - series: 'probe_ssl_earliest_cert_expiry{{{lab}}}'\n        values: '{x(int(expiry_days*86400))}'"]
    return out
ALL=['PatroniNoLeader','PatroniTwoLeaders','PatroniLeaderChanged','PatroniMemberDown','ReplicaNotStreaming','ReplicationLagHigh','EtcdNoQuorum','EtcdMemberDown','DiskAlmostFull','DiskFillingUp','EdgeDown','CertificateExpiringSoon']
def test(name, series, expects, eval_time='9m'):
    if not any('job="edge"' in s for s in series): series = series + edge_series()
    lines=[f"  # {name}", "  - interval: 15s", "    input_series:"]+series+["    alert_rule_test:"]
    for a in ALL:
        exp=expects.get(a)
        lines += [f"      - eval_time: {eval_time}", f"        alertname: {a}"]
        lines += ["        exp_alerts: []"] if exp is None else ["        exp_alerts:", exp]
    return "\n".join(lines)
def alert(labels, summary):
    ind='          '
    lab="\n".join(f"{ind}    {k}: {v}" for k,v in labels.items())
    return f"{ind}- exp_labels:\n{lab}\n{ind}  exp_annotations:\n{ind}    summary: \"{summary}\""
P=lambda n: {'job':'patroni','instance':f'{n}:8008','node':n}
tests=[]
tests.append(test('a healthy cluster: no alert at all — the leader reports 0 as its replayed location and is not "lagging"', member_series()+etcd_series()+disk_series(), {}))
tests.append(test('a replica 32 MB behind: ReplicationLagHigh for it only', member_series({'c':{'replayed':x(966445568)}})+etcd_series()+disk_series(),
  {'ReplicationLagHigh': alert({'severity':'warning',**P('c')}, 'Replica c is more than 16 MB behind the leader')}))
tests.append(test("a replica's Patroni down (it answers nothing): PatroniMemberDown (critical) for it", member_series({'c':{'up':f'1 1 0x{N-2}','primary':'0 0','replica':'1 1','xlog':'0 0','replayed':'1000000000 1000000000','streaming':'1 1'}})+etcd_series()+disk_series(),
  {'PatroniMemberDown': alert({'severity':'critical',**P('c')}, 'Patroni on c does not answer: the cluster runs one member short')}))
tests.append(test('no member is primary (the leader lost it, nobody took over): PatroniNoLeader', member_series({'a':{'primary':f'1 1 0x{N-2}','replica':x(0),'xlog':x(0)}})+etcd_series()+disk_series(),
  {'PatroniNoLeader': alert({'severity':'critical'}, 'No Patroni leader: writes are failing')}))
tests.append(test('no Patroni answers at all: PatroniNoLeader all the same', member_series({n:{'up':x(0),'primary':None,'replica':None,'xlog':None,'replayed':None,'streaming':None,'timeline':None} for n in 'abc'})+etcd_series()+disk_series(),
  {'PatroniNoLeader': alert({'severity':'critical'}, 'No Patroni leader: writes are failing'),
   'PatroniMemberDown': "\n".join(alert({'severity':'critical',**P(n)}, f'Patroni on {n} does not answer: the cluster runs one member short') for n in 'abc')}))
# a failover: the timeline moves 2 → 3 at 5m; the alert fires at once, and is gone 2 minutes later
fo = {n:{'timeline':'2x20 3x80'} for n in 'abc'}
tests.append(test('a failover (the timeline moves): PatroniLeaderChanged fires', member_series(fo)+etcd_series()+disk_series(),
  {'PatroniLeaderChanged': alert({'severity':'warning'}, 'The Patroni leader changed (1 timeline change(s) in the last minute): a failover or switchover happened')}, eval_time='5m30s'))
tests.append(test('… and resolves a minute after it', member_series(fo)+etcd_series()+disk_series(), {}, eval_time='7m'))
tests.append(test('two members claim primary: PatroniTwoLeaders', member_series({'b':{'primary':x(1),'replica':x(0),'replayed':x(0),'streaming':x(0),'xlog':x(1000000000)}})+etcd_series()+disk_series(),
  {'PatroniTwoLeaders': alert({'severity':'critical'}, 'More than one Patroni member claims to be primary')}))
tests.append(test('etcd: two members without a leader, one of them down: EtcdNoQuorum and EtcdMemberDown', member_series()+etcd_series({'b':{'leader':f'1 0x{N-1}'},'c':{'up':f'1 0x{N-1}','leader':'1 1'}})+disk_series(),
  {'EtcdNoQuorum': alert({'severity':'critical'}, 'etcd has lost quorum: Patroni cannot keep or elect a leader'), 'EtcdMemberDown': alert({'severity':'warning','job':'etcd','instance':'c:2379','node':'c'}, 'etcd member on c is down')}))
dl={'severity':'critical','job':'node','instance':'c:9100','node':'c','mountpoint':'/','fstype':'ext4','device':'/dev/sda1'}
dw=dict(dl); dw['severity']='warning'
tests.append(test('a disk 95% full: DiskAlmostFull (critical) and DiskFillingUp (warning)', member_series()+etcd_series()+disk_series(5),
  {'DiskAlmostFull': alert(dl,'Less than 10% disk left on c'), 'DiskFillingUp': alert(dw,'Less than 20% disk left on c')}, eval_time='20m'))
tests.append(test('a running replica that does not stream: ReplicaNotStreaming', member_series({'b':{'streaming':x(0)}})+etcd_series()+disk_series(),
  {'ReplicaNotStreaming': alert({'severity':'warning',**P('b')}, 'Replica b is not streaming from the leader')}))
E={'job':'edge','instance':'https://10.0.0.1/api/health','node':'a'}
healthy=member_series()+etcd_series()+disk_series()
tests.append(test('the edge fails its probe (Caddy down): EdgeDown (critical)', healthy+edge_series(success=f'1 1 0x{N-2}'),
  {'EdgeDown': alert({'severity':'critical','issuer':'acme',**E}, 'The edge on a does not answer HTTPS with 200: the API is down for its users')}))
tests.append(test('the blackbox exporter does not answer: EdgeDown all the same', healthy+edge_series(success=None, up=f'1 1 0x{N-2}'),
  {'EdgeDown': alert({'severity':'critical','issuer':'acme',**E}, 'The edge on a does not answer HTTPS with 200: the API is down for its users')}))
tests.append(test('an ACME certificate with 10 days left: CertificateExpiringSoon (warning)', healthy+edge_series(expiry_days=10),
  {'CertificateExpiringSoon': alert({'severity':'warning','issuer':'acme',**E}, "The edge's TLS certificate on a expires in under 14 days: renewal is failing")}, eval_time='20m'))
tests.append(test("Caddy's internal CA (12-hour certificates, renewed by Caddy): no expiry alert", healthy+edge_series(expiry_days=0.5, issuer='internal'), {}, eval_time='20m'))
doc = "# promtool test rules for compose/config/alerts.yml (run by tests/unit/monitoring.test.ts).\n# Written by generate.py: edit that, not this.\n# Each scenario checks every alert: the ones expected, and silence from the rest.\nrule_files:\n  - ../../../compose/config/alerts.yml\nevaluation_interval: 15s\ntests:\n" + "\n".join(tests) + "\n"
import os
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'alerts.test.yml'), 'w').write(doc)
