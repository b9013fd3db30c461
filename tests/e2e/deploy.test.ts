import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeSession, summarizeProbe } from '../../dist/cluster/write-probe.js';
import { run as argv } from '../../dist/remote/shell.js';
import { wipeStack } from '../lab/faults.ts';
import { LAB_ENV_FILE, REPO } from '../lab/config.ts';
import { waitFor } from '../lab/run.ts';
import { runCli } from '../helpers/cli.js';
import { LabCluster } from './cluster.ts';

/**
 * `twincigo deploy`, `releases`, `rollback` on the lab's whole stack: nothing changed → nothing
 * restarted; a backend setting → only the backend; a broken image → that node rolled back, cluster
 * healthy; a PostgreSQL parameter needing a restart → replicas first and one switchover, the write
 * outage no longer than a switchover's; rollback → the previous release live again.
 */
const lab = new LabCluster();
const LAB_INVENTORY = `${REPO}twincigo.lab.yml`;
const saved = { env: readFileSync(LAB_ENV_FILE, 'utf8'), inventory: readFileSync(LAB_INVENTORY, 'utf8') };
const setEnv = (key: string, value: string) => {
  const lines = readFileSync(LAB_ENV_FILE, 'utf8').split('\n').filter((l) => !l.startsWith(`${key}=`));
  writeFileSync(LAB_ENV_FILE, `${lines.join('\n').trimEnd()}\n${key}=${value}\n`);
};
const setMaxConnections = (n: number) => writeFileSync(LAB_INVENTORY, saved.inventory.replace(/^( {4}rttMs: .*)$/m, `$1\n    postgres:\n      parameters:\n        max_connections: ${n}`));

const cli = (args: string[], timeoutMs = 300_000) => runCli([...args, '--env', 'lab', '--yes'], { timeoutMs });
const deployJson = async (...extra: string[]) => {
  const res = await cli(['deploy', '--json', ...extra]);
  return { ...res, body: res.stdout.trim() ? (JSON.parse(res.stdout) as Record<string, any>) : {} };
};
/** Container name → when it started, on every node. */
async function started(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(lab.conns.map(async (c, i) => {
    const res = await c.run(argv('sh', '-c', 'docker inspect -f "{{.Name}} {{.State.StartedAt}}" $(docker ps -q)'));
    for (const line of res.stdout.trim().split('\n')) {
      const [name, at] = line.trim().split(' ');
      out.set(`${lab.config.nodes[i]!.name}${name}`, at!);
    }
  }));
  return out;
}
const restartedSince = (before: Map<string, string>, after: Map<string, string>) => [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k).sort();
const releases = async () => JSON.parse((await cli(['releases', '--json'])).stdout).nodes as Record<string, { id: string; current: boolean }[]>;
const currentOf = (rs: { id: string; current: boolean }[]) => rs.find((r) => r.current)?.id;
const status = async () => (await runCli(['status', '--env', 'lab', '--quiet'], { timeoutMs: 60_000 })).code;

beforeAll(async () => {
  await wipeStack(); // a fresh cluster: Patroni's config in etcd starts from the rendered defaults
  await lab.upAll();
  await waitFor('a healthy cluster', async () => (await status()) === 0, 60_000, 1000);
}, 600_000);
afterAll(async () => {
  writeFileSync(LAB_ENV_FILE, saved.env);
  writeFileSync(LAB_INVENTORY, saved.inventory);
  await lab.release();
});

describe('twincigo deploy', () => {
  it('nothing changed: no container restarted, no release made', async () => {
    const before = await started();
    const res = await deployJson();
    expect(res.code, res.stderr).toBe(0);
    expect(res.body.restarts).toBe(0);
    expect(Object.values(res.body.nodes).every((n: any) => !n.changed)).toBe(true);
    expect(restartedSince(before, await started())).toEqual([]);
    const rs = await releases();
    expect(Object.values(rs).every((l) => l.length === 0)).toBe(true);
  });

  it('a backend setting: the dry run shows the plan and a redacted diff; the deploy recreates only the backend', async () => {
    setEnv('BACKEND_LOG_LEVEL', 'debug');
    const before = await started();
    const dry = await cli(['deploy', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('lab-ash-1: files ~.env; recreate backend');
    expect(dry.stdout).toMatch(/lab-hil-1: files ~\.env; no service restarts/);
    expect(dry.stdout).toContain('+BACKEND_LOG_LEVEL=debug');
    expect(dry.stdout).toContain('POSTGRES_PASSWORD=<secret>');
    expect(dry.stdout).not.toContain(lab.values.values.POSTGRES_PASSWORD!);
    expect(Object.values(await releases()).every((l) => l.length === 0)).toBe(true);

    const res = await deployJson();
    expect(res.code, res.stderr).toBe(0);
    expect(res.body.nodes['lab-ash-1'].recreate).toEqual(['backend']);
    expect(restartedSince(before, await started())).toEqual(['lab-ash-1/twincigo-backend-1']);
    const env = await lab.conns[1]!.run(argv('docker', 'inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', 'twincigo-backend-1'));
    expect(env.stdout).toContain('LOG_LEVEL=debug');
    const rs = await releases();
    for (const list of Object.values(rs)) {
      expect(list).toHaveLength(2); // the live files before the first deploy, and this release
      expect(currentOf(list)).toBe(res.body.release);
    }
  });

  it('a drifted config file is put back and HAProxy reloads in place: a connection through it survives', async () => {
    const cfg = `${lab.base}/config/haproxy/haproxy.cfg`;
    await lab.conns[0]!.run(argv('sh', '-c', `echo '# edited by hand' >> ${cfg}`));
    // a session through this node's HAProxy, open across the deploy: two queries 8 s apart
    const session = lab.conns[0]!.exec(lab.sql(0, 5000, "select 'before'; select pg_sleep(8); select 'after'"), { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 1000));
    const before = await started();
    const res = await deployJson();
    expect(res.code, res.stderr).toBe(0);
    expect(res.body.nodes['lab-hil-1'].reload).toEqual(['haproxy']);
    expect(res.body.nodes['lab-hil-1'].recreate).toEqual([]);
    expect(restartedSince(before, await started())).toEqual([]);
    const out = await session;
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('after');
    expect((await lab.conns[0]!.run(argv('tail', '-1', cfg))).stdout).not.toContain('edited by hand');
  });

  it('a broken change: the failing node is rolled back, the cluster stays healthy, the error says why', async () => {
    const good = currentOf((await releases())['lab-ash-1']!);
    setEnv('BACKEND_IMAGE', '172.28.77.2:5000/twincigo-lab/does-not-exist:1');
    const res = await cli(['deploy']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/error: deploy \S+ failed on lab-ash-1: backend did not come up: .*(not found|manifest unknown)/);
    expect(res.stderr).toContain(`lab-ash-1 was rolled back to ${good}`);
    const rs = await releases();
    expect(currentOf(rs['lab-ash-1']!)).toBe(good);
    const ps = await lab.conns[1]!.run(argv('docker', 'inspect', '-f', '{{.Config.Image}} {{.State.Health.Status}}', 'twincigo-backend-1'));
    expect(ps.stdout.trim()).toMatch(/twincigo-lab\/backend:\S+ healthy/);
    expect(await status()).toBe(0);
    // put the good image back: the nodes converge again
    writeFileSync(LAB_ENV_FILE, saved.env);
    setEnv('BACKEND_LOG_LEVEL', 'debug');
    const again = await cli(['deploy']);
    expect(again.code, again.stderr).toBe(0);
  });

  it('a PostgreSQL parameter that needs a restart: replicas first, one switchover, writes interrupted once and briefly', async () => {
    const leaderBefore = (await lab.patroniHealthy()).find((m) => m.role === 'leader')!.name;
    setMaxConnections(200);
    const probe = new ProbeSession(lab.conns[2]!);
    probe.start();
    await waitFor('the write probe', async () => probe.acknowledged('w') >= 5, 20_000, 100);
    const res = await deployJson();
    await new Promise((r) => setTimeout(r, 2000));
    await probe.stop();
    expect(res.code, res.stderr).toBe(0);
    expect(res.body.patroniConfig).toEqual(['postgresql.parameters.max_connections: 150 → 200']);
    expect(res.body.leader).not.toBe(leaderBefore);
    const w = summarizeProbe(probe.events, 'w');
    const acks = probe.events.filter((e) => e.kind === 'w' && e.ok).map((e) => e.atMs).sort((a, b) => a - b);
    // one real outage (the switchover); a loaded CI machine adds pauses of about a second elsewhere
    const gaps = acks.slice(1).map((t, i) => t - acks[i]!).filter((g) => g > 2000);
    expect(gaps.length, `write gaps over 2 s: ${gaps.join(', ')}`).toBeLessThanOrEqual(1);
    // a switchover on this lab takes ≈ 4 s (BENCHMARKS.md); restarts of replicas do not touch writes
    expect(w.outageSeconds).toBeLessThanOrEqual(10);
    expect(await probe.lostWrites()).toBe(0);
    for (const [i] of lab.conns.entries()) expect(await lab.query(i, 5432, 'show max_connections')).toBe('200');
    const ms = await lab.patroniHealthy();
    expect(ms.some((m: any) => m.pending_restart)).toBe(false);
  }, 600_000);

  it('rollback: the previous release is live again, the same way (Patroni config included)', async () => {
    const before = await releases();
    const res = await cli(['rollback']);
    expect(res.code, res.stderr).toBe(0);
    const after = await releases();
    for (const [node, list] of Object.entries(after)) {
      const ids = before[node]!.map((r) => r.id);
      expect(currentOf(list)).toBe(ids[ids.indexOf(currentOf(before[node]!)!) - 1]);
    }
    for (const [i] of lab.conns.entries()) expect(await lab.query(i, 5432, 'show max_connections')).toBe('150');
    expect(await status()).toBe(0);
    const noop = await deployJson('--dry-run');
    expect(noop.body.patroniConfig).toEqual(['postgresql.parameters.max_connections: 150 → 200']);
  }, 600_000);

  it('a role taken off a node: its containers are removed (not its volumes); given back, they return', async () => {
    writeFileSync(LAB_INVENTORY, saved.inventory.replace(/^( {4}rttMs: .*)$/m, '$1\n    skipRoles: [monitoring]').replace(/^ {10}- monitoring\n/m, ''));
    const off = await deployJson();
    expect(off.code, off.stderr).toBe(0);
    // with no monitoring node, no node runs the log agent either (it has no Loki to ship to)
    expect(off.body.nodes['lab-ash-2'].orphans).toEqual(['alloy', 'grafana', 'loki']);
    for (const n of ['lab-hil-1', 'lab-ash-1']) expect(off.body.nodes[n].orphans).toEqual(['alloy']);
    const ps = async () => (await lab.conns[2]!.run(argv('docker', 'ps', '--format', '{{.Names}}'))).stdout;
    expect(await ps()).not.toMatch(/grafana|loki|alloy/);
    writeFileSync(LAB_INVENTORY, saved.inventory);
    const on = await deployJson();
    expect(on.code, on.stderr).toBe(0);
    expect(on.body.nodes['lab-ash-2'].recreate.sort()).toEqual(['alloy', 'grafana', 'loki']);
    const back = await ps();
    expect(back).toContain('twincigo-grafana-1');
    expect(back).toContain('twincigo-loki-1');
    expect(await status()).toBe(0);
  }, 300_000);
});
