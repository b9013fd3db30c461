import { describe, expect, it } from 'vitest';
import type { NodeConfig } from '../../src/config/model.js';
import type { NodeProbe } from '../../src/status/collect.js';
import { parseProbe } from '../../src/status/probe.js';
import { clockSkewCertain, summarize } from '../../src/status/summary.js';
import { settledStatus } from '../../src/status/settle.js';
import { criticalWarnings, parseAlerts } from '../../src/status/alerts.js';
import { statusTable } from '../../src/status/table.js';

const roles: NodeConfig['roles'] = ['etcd', 'patroni', 'haproxy'];
const nodes: NodeConfig[] = ['a', 'b', 'c'].map((n, i) => ({ name: n, host: `10.0.0.${i + 1}`, privateAddress: `10.0.0.${i + 1}`, roles, ssh: {} }));
const view = (leader = 'a', over: Record<string, object> = {}) => ({
  from: 'a',
  members: ['a', 'b', 'c'].map((n) => ({ name: n, role: n === leader ? 'leader' : 'replica', state: n === leader ? 'running' : 'streaming', timeline: 2, lag: n === leader ? undefined : 0, ...over[n] })),
});
function probe(name: string, o: Partial<{ reachable: boolean; role: string; primary: string[]; etcd: boolean; leaderId: string; cluster: ReturnType<typeof view> | null }> = {}): NodeProbe {
  const reachable = o.reachable ?? true;
  return {
    member: {
      name, host: name, reachable, error: reachable ? null : 'connection refused', sshMs: reachable ? 5 : null, role: null, state: null, timeline: null, lagBytes: null,
      pendingRestart: false, etcd: reachable ? { healthy: o.etcd ?? true, isLeader: name === 'a' } : null,
      haproxy: reachable ? { primary: o.primary ?? ['a'], replicas: ['b', 'c'] } : null,
      containers: reachable ? [{ service: 'patroni', state: 'running', health: 'healthy', restarts: 0, startedAt: null }] : [], disk: { usedPct: 40 }, memory: { usedPct: 30 }, clockSkewMs: 3,
    },
    cluster: reachable ? (o.cluster === undefined ? view() : o.cluster) : null,
    self: reachable ? { role: o.role ?? (name === 'a' ? 'primary' : 'replica'), state: 'running', timeline: 2 } : null,
    etcdMemberId: `id-${name}`,
    etcdLeaderId: 'id-a',
  };
}

describe('firing alerts', () => {
  it("amtool's JSON → alerts, critical first; each critical one a reason for degraded; not JSON → unknown", () => {
    const out = JSON.stringify([
      { labels: { alertname: 'ReplicationLagHigh', severity: 'warning', node: 'b' }, annotations: { summary: 'Replica b is more than 16 MB behind the leader' }, startsAt: '2026-11-30T08:00:00Z' },
      { labels: { alertname: 'PatroniMemberDown', severity: 'critical', node: 'c' }, annotations: { summary: 'Patroni on c does not answer' }, startsAt: '2026-11-30T08:01:00Z' },
    ]);
    const alerts = parseAlerts(out)!;
    expect(alerts.map((a) => [a.name, a.severity, a.node])).toEqual([['PatroniMemberDown', 'critical', 'c'], ['ReplicationLagHigh', 'warning', 'b']]);
    expect(criticalWarnings(alerts)).toEqual(['alert PatroniMemberDown firing on c: Patroni on c does not answer']);
    expect(parseAlerts('[]')).toEqual([]);
    expect(parseAlerts('Error: connection refused')).toBeNull();
    const s = { ...summarize('lab', nodes, [probe('a'), probe('b'), probe('c')]), alerts };
    const plain = { ok: (t: string) => t, bad: (t: string) => t, warn: (t: string) => t };
    expect(statusTable(s, plain)).toMatch(/Firing alerts \(Alertmanager\):\n  critical PatroniMemberDown on c since 2026-11-30 08:01:00 — Patroni on c does not answer\n  warning  ReplicationLagHigh on b/);
  });
});

describe('status summary', () => {
  it('clock skew: warned only when it exceeds 1 s even at the near end of the ±rtt/2 uncertainty', () => {
    expect(clockSkewCertain({ clockSkewMs: -1400, sshMs: 3000 })).toBe(false); // a slow probe, a good clock
    expect(clockSkewCertain({ clockSkewMs: 1400, sshMs: 200 })).toBe(true);
    expect(clockSkewCertain({ clockSkewMs: -2600, sshMs: 3000 })).toBe(true);
    expect(clockSkewCertain({ clockSkewMs: null, sshMs: 10 })).toBe(false);
    const slow = probe('b');
    slow.member.clockSkewMs = -1300;
    slow.member.sshMs = 2800;
    expect(summarize('lab', nodes, [probe('a'), slow, probe('c')]).warnings).toEqual([]);
    slow.member.sshMs = 100;
    expect(summarize('lab', nodes, [probe('a'), slow, probe('c')]).warnings).toEqual(["b: clock is -1300 ms off this machine's (±50 ms)"]);
  });

  it('healthy: one leader, two streaming replicas, etcd quorum, HAProxy agrees → exit 0', () => {
    const s = summarize('lab', nodes, [probe('a'), probe('b'), probe('c')]);
    expect(s).toMatchObject({ healthy: true, exitCode: 0, leader: 'a', timeline: 2, failoverReady: true, haproxy: { agree: true, primary: 'a' }, etcd: { healthyMembers: 3, quorum: true, leader: 'a' } });
    expect(s.members.map((m) => [m.name, m.role, m.state, m.lagBytes])).toEqual([['a', 'leader', 'running', 0], ['b', 'replica', 'streaming', 0], ['c', 'replica', 'streaming', 0]]);
    expect(s.warnings).toEqual([]);
  });

  it('synchronous replication without a synchronous standby (lost, or not yet picked after a failover) → degraded, named', () => {
    const withSync = view('a', { b: { role: 'sync_standby' } });
    const ok = summarize('lab', nodes, [probe('a', { cluster: withSync }), probe('b', { cluster: withSync }), probe('c', { cluster: withSync })], { synchronous: true });
    expect(ok).toMatchObject({ healthy: true, exitCode: 0 });
    expect(ok.members[1]).toMatchObject({ name: 'b', role: 'sync_standby' });
    const lost = summarize('lab', nodes, [probe('a'), probe('b'), probe('c')], { synchronous: true });
    expect(lost.exitCode).toBe(3);
    expect(lost.warnings).toEqual(['synchronous replication is on, but no member is the synchronous standby: commits are acknowledged asynchronously until one streams again']);
    // asynchronous environments have no synchronous standby by design
    expect(summarize('lab', nodes, [probe('a'), probe('b'), probe('c')], { synchronous: false }).warnings).toEqual([]);
  });

  it('an unreachable replica → degraded (3), shown unreachable, etcd 2/3 still has quorum', () => {
    const s = summarize('lab', nodes, [probe('a', { cluster: view('a', { c: { state: 'stopped' } }) }), probe('b'), probe('c', { reachable: false })]);
    expect(s.exitCode).toBe(3);
    expect(s.members[2]).toMatchObject({ name: 'c', reachable: false, error: 'connection refused' });
    expect(s.etcd).toMatchObject({ healthyMembers: 2, quorum: true });
    expect(s.warnings).toContain('c is unreachable: connection refused');
  });

  it("a node Patroni has dropped is gone (node replace is named), one it still lists only unreachable, one starting is restarting", () => {
    const dropped = { from: 'a', members: view().members.filter((m) => m.name !== 'c') };
    const gone = summarize('lab', nodes, [probe('a', { cluster: dropped }), probe('b', { cluster: dropped }), probe('c', { reachable: false })]);
    expect(gone.members.map((m) => m.presence)).toEqual(['up', 'up', 'gone']);
    expect(gone.warnings[0]).toBe('c is gone: unreachable (connection refused) and no longer a Patroni member — a machine lost for good is replaced with `twincigo node replace c`');
    const plain = { ok: (t: string) => t, bad: (t: string) => t, warn: (t: string) => t };
    expect(statusTable(gone, plain)).toMatch(/^c {17}gone {3}connection refused$/m);
    const listed = summarize('lab', nodes, [probe('a'), probe('b'), probe('c', { reachable: false })]);
    expect(listed.members[2]!.presence).toBe('unreachable');
    const starting = view('a', { b: { state: 'creating replica' } });
    expect(summarize('lab', nodes, [probe('a', { cluster: starting }), probe('b', { cluster: starting }), probe('c', { cluster: starting })]).members[1]!.presence).toBe('restarting');
  });

  it('no leader → exit 4', () => {
    const noLeader = { from: 'b', members: [{ name: 'b', role: 'replica', state: 'running' }, { name: 'c', role: 'replica', state: 'running' }] };
    const s = summarize('lab', nodes, [probe('a', { reachable: false }), probe('b', { cluster: noLeader, primary: [] }), probe('c', { cluster: noLeader, primary: [] })]);
    expect(s).toMatchObject({ exitCode: 4, leader: null, healthy: false });
  });

  it('warns when HAProxy instances disagree, two members claim primary, or timelines differ', () => {
    const s = summarize('lab', nodes, [
      probe('a', { cluster: view('a', { c: { timeline: 1 } }) }),
      probe('b', { primary: ['b'], role: 'primary' }),
      probe('c'),
    ]);
    expect(s.exitCode).toBe(3);
    expect(s.warnings).toContain('HAProxy instances disagree about the primary: a → a, b → b, c → a');
    expect(s.warnings).toContain('two members claim to be primary: a, b');
    expect(s.warnings).toContain('timeline mismatch: a 2, b 2, c 1');
  });

  it('etcd without quorum is said loudly', () => {
    const s = summarize('lab', nodes, [probe('a'), probe('b', { etcd: false }), probe('c', { etcd: false })]);
    expect(s.etcd.quorum).toBe(false);
    expect(s.warnings).toContain('etcd: 1 of 3 members healthy — NO QUORUM');
  });

  it('a replica lagging beyond the failover limit is not failover-ready', () => {
    const s = summarize('lab', nodes, [probe('a', { cluster: view('a', { b: { lag: 50_000_000 }, c: { lag: 'unknown', state: 'starting' } }) }), probe('b'), probe('c')]);
    expect(s.failoverReady).toBe(false);
    expect(s.warnings).toContain('no replica could take over: none is streaming within the failover lag limit');
  });

  it("right after a WAL switch /cluster's stale member keys say 16 MiB behind; the replicas' own positions say caught up → healthy; behind in both → not failover-ready", () => {
    const switched = view('a', { b: { lag: 16_777_160 }, c: { lag: 16_777_160 } });
    const at = (name: string, xlog: object) => {
      const p = probe(name, { cluster: switched });
      p.self = { ...p.self, xlog };
      return p;
    };
    const caughtUp = summarize('lab', nodes, [at('a', { location: 335_544_464 }), at('b', { received_location: 335_544_464, replayed_location: 335_544_400 }), at('c', { received_location: 335_544_464 })]);
    expect(caughtUp).toMatchObject({ healthy: true, exitCode: 0, failoverReady: true, warnings: [] });
    expect(caughtUp.members.map((m) => m.lagBytes)).toEqual([0, 0, 0]);

    const behind = summarize('lab', nodes, [at('a', { location: 335_544_464 }), at('b', { received_location: 300_000_000 }), at('c', { received_location: 200_000_000 })]);
    expect(behind.members.map((m) => m.lagBytes)).toEqual([0, 16_777_160, 16_777_160]);
    expect(behind.warnings).toContain('no replica could take over: none is streaming within the failover lag limit');

    // the leader's own probe failed: /cluster's figure is all there is
    const noLeaderSelf = summarize('lab', nodes, [probe('a', { cluster: switched }), at('b', { received_location: 335_544_464 }), at('c', { received_location: 335_544_464 })]);
    expect(noLeaderSelf.failoverReady).toBe(false);
  });

  it('the table fits 100 columns', () => {
    const s = summarize('lab', nodes, [probe('a'), probe('b'), probe('c', { reachable: false })]);
    const plain = { ok: (t: string) => t, bad: (t: string) => t, warn: (t: string) => t };
    for (const line of statusTable(s, plain).split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
  });
});

describe('probe output', () => {
  it('is split into its parts; a part that did not answer (000) or failed is absent; one inspect per expected service', () => {
    const out = parseProbe(
      ['@@clock 123', '@@disk 10,100', '@@memory 5,10', '{"role":"replica"}', '@@200', '{"members":[]}', '@@200', '', '@@000', 'x', '@@404', 'csv', '@@200', '{"A":1}', '@@200', '{"message":"No such container"}', '@@404', ''].join('\n'),
      2,
    );
    expect(out).toMatchObject({ clock: 123, disk: '10,100', memory: '5,10' });
    expect(out.parts).toEqual({ patroni: '{"role":"replica"}', cluster: '{"members":[]}', haproxy: 'csv' });
    expect(out.containers).toEqual(['{"A":1}', null]);
  });

  it('the probe command passes the base dir and compose\'s container names as arguments, quoted once', async () => {
    const { probeCommand } = await import('../../src/status/probe.js');
    const { render } = await import('../../src/remote/shell.js');
    const line = render(probeCommand('/opt/twincigo-crm', ['etcd', 'patroni']), { sudo: true });
    expect(line.startsWith("sudo -n -- sh -c '")).toBe(true);
    expect(line.endsWith("' sh /opt/twincigo-crm twincigo-etcd-1 twincigo-patroni-1")).toBe(true);
  });
});

describe('a settled status (bootstrap\'s result)', () => {
  const healthy = () => summarize('lab', nodes, [probe('a'), probe('b'), probe('c')]);
  const settling = () => summarize('lab', nodes, [probe('a'), probe('b', { primary: [] }), probe('c')]);

  it('asks again while the cluster settles and returns the first healthy look', async () => {
    const looks = [settling(), settling(), healthy()];
    const seen: string[] = [];
    const { status, waitedMs } = await settledStatus(async () => looks.shift()!, { timeoutMs: 5000, intervalMs: 10, onWait: (s) => seen.push(s.warnings[0]!) });
    expect(status.healthy).toBe(true);
    expect(seen).toEqual(['HAProxy instances disagree about the primary: a → a, b → none, c → a', 'HAProxy instances disagree about the primary: a → a, b → none, c → a']);
    expect(waitedMs).toBeLessThan(2000);
  });

  it('bounded: a cluster that stays unhealthy is returned as last seen, with its warnings', async () => {
    let n = 0;
    const started = Date.now();
    const { status } = await settledStatus(async () => (n++, settling()), { timeoutMs: 300, intervalMs: 50 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(n).toBeGreaterThan(2);
    expect(status.healthy).toBe(false);
    expect(status.warnings).toEqual(['HAProxy instances disagree about the primary: a → a, b → none, c → a']);
  });
});

describe('the status probe, run for real (sh + curl) against a local stand-in', () => {
  it('gives HAProxy\'s stats password to curl on stdin, never in an argv; $, ", \\ and spaces survive', async () => {
    const { createServer } = await import('node:http');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { render } = await import('../../src/remote/shell.js');
    const { probeCommand } = await import('../../src/status/probe.js');
    const pw = `p$w"\\x-Zk3q9 LmTx0aPw2v`;
    let auth = '';
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/;csv')) auth = req.headers.authorization ?? '';
      res.end('ok\n');
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(7000, '127.0.0.1', resolve));
    const dir = mkdtempSync(`${tmpdir()}/twincigo-probe-`);
    try {
      writeFileSync(`${dir}/.env`, `X=1\nHAPROXY_STATS_PASSWORD='${pw}'\n`); // as nodeEnv writes it
      // the script as the node runs it; `ps` inside would show curl's argv: check the rendered command instead
      const script = render(probeCommand(dir, []), { sudo: false });
      expect(script).not.toContain(pw);
      // asynchronously: the stand-in server answers on this process's event loop
      const run = await promisify(execFile)('sh', ['-c', script], { encoding: 'utf8', timeout: 20_000 });
      expect(run.stdout).toContain('@@clock');
      expect(Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString()).toBe(`admin:${pw}`);
      // and curl's own argv (as ps shows it) never holds it: the script passes `-K -`, not `-u`
      expect(script).toMatch(/-K - /);
      expect(script).not.toMatch(/-u ["']?admin:/);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
