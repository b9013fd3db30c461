import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../lab/run.ts';
import { runCli, startCli } from '../helpers/cli.js';
import { LabCluster } from './cluster.ts';

/** The operator's toolbox against the lab's core stack: exec, logs (-f stopped by a signal), audit, switchover. */
const lab = new LabCluster();
const NAMES = lab.config.nodes.map((n) => n.name);

beforeAll(async () => {
  await lab.upCore();
  // HAProxy needs a check or two before :5000 routes
  await waitFor('HAProxy on every node', async () => (await runCli(['status', '--env', 'lab', '--quiet'], { timeoutMs: 30_000 })).code !== 4, 30_000, 1000);
}, 300_000);
afterAll(() => lab.release());

describe('twincigo exec', () => {
  it('one node: the exit code is passed through, stdin forwarded', async () => {
    expect((await runCli(['exec', '--env', 'lab', 'lab-ash-1', '--', 'sh', '-c', 'exit 7'])).code).toBe(7);
    const res = await runCli(['exec', '--env', 'lab', 'lab-ash-2', '--', 'wc', '-c'], { input: 'x'.repeat(12345) });
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toBe('12345');
  });

  it('--all: in parallel, every line prefixed with its node; the first non-zero code wins', async () => {
    const res = await runCli(['exec', '--env', 'lab', '--all', '--', 'hostname']);
    expect(res.code).toBe(0);
    expect(res.stdout.trim().split('\n').sort()).toEqual(NAMES.map((n) => `${n} | ${n}`).sort());
    const mixed = await runCli(['exec', '--env', 'lab', '--all', '--', 'sh', '-c', 'test "$(hostname)" != lab-ash-1 || exit 3']);
    expect(mixed.code).toBe(3);
  });

  it('--leader --in patroni: inside the leader\'s container', async () => {
    const res = await runCli(['exec', '--env', 'lab', '--leader', '--in', 'patroni', '--', 'sh', '-c', 'curl -s http://127.0.0.1:8008/patroni']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ role: 'primary', state: 'running' });
    const etcd = await runCli(['exec', '--env', 'lab', 'lab-ash-2', '--in', 'etcd', '--', 'etcdctl', 'endpoint', 'health']);
    expect(etcd.code).toBe(0);
    expect(etcd.stdout + etcd.stderr).toMatch(/is healthy/);
  });

  it('says where to run when nothing is chosen, and refuses unknown nodes', async () => {
    const none = await runCli(['exec', '--env', 'lab', '--', 'true']);
    expect(none.code).toBe(2);
    const unknown = await runCli(['exec', '--env', 'lab', 'nope', '--', 'true']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no node nope in lab');
  });
});

describe('twincigo logs', () => {
  it('the last lines from every node that runs the service, prefixed; --grep filters', async () => {
    const res = await runCli(['logs', 'patroni', '--env', 'lab', '--lines', '5']);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    for (const n of NAMES) expect(lines.some((l) => l.startsWith(`${n} | `))).toBe(true);
    // Patroni says "leader" in its loop line every 5 s on every node; HAProxy's checks can fill the
    // log with tracebacks in between, hence many lines
    const grep = await runCli(['logs', 'patroni', '--env', 'lab', '--lines', '5000', '--grep', 'leader']);
    const matched = grep.stdout.trim().split('\n').filter(Boolean);
    expect(matched.length).toBeGreaterThan(0);
    expect(matched.every((l) => /leader/.test(l))).toBe(true);
    const unknown = await runCli(['logs', 'nope', '--env', 'lab']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no service nope in lab\n {2}hint: services: .*patroni/);
  });

  it('-f follows every node until Ctrl-C, then exits 130 as every command does', async () => {
    const run = startCli(['logs', 'patroni', '--env', 'lab', '-f', '--lines', '1'], { timeoutMs: 60_000 });
    // Patroni logs a line every loop_wait (8 s) on each node
    await waitFor('followed lines from every node', async () => NAMES.every((n) => run.output().split('\n').filter((l) => l.startsWith(`${n} | `)).length >= 2), 30_000, 500);
    const stoppedAt = Date.now();
    run.child.kill('SIGINT');
    const res = await run.done;
    expect(res.code).toBe(130);
    expect(res.stdout.split('\n').filter((l) => / \| /.test(l)).length).toBeGreaterThanOrEqual(6);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
  }, 60_000);
});

describe('twincigo switchover and audit', () => {
  it('--to a replica: new leader, every HAProxy routes to it, outage measured, nothing lost; status agrees', async () => {
    const members = await lab.members(lab.conns[0]!);
    const from = members.find((m) => m.role === 'leader')!.name;
    const to = members.find((m) => m.role === 'replica')!.name;
    const res = await runCli(['switchover', '--env', 'lab', '--to', to, '--json'], { timeoutMs: 240_000 });
    expect(res.code, res.stderr.slice(-2000)).toBe(0);
    const r = JSON.parse(res.stdout);
    expect(r).toMatchObject({ ok: true, from, to, lostWrites: 0, oldLeaderRejoined: true });
    expect(r.acknowledgedWrites).toBeGreaterThan(10);
    expect(r.writeOutageSeconds).toBeGreaterThan(0);
    expect(r.writeOutageSeconds).toBeLessThan(10);
    // only the core stack runs here, so status is "degraded" (services missing); it must agree on the leader
    const status = await waitFor('status with the new leader', async () => {
      const s = JSON.parse((await runCli(['status', '--env', 'lab', '--json'])).stdout);
      return s.leader === to && s.haproxy.agree ? s : false;
    }, 30_000, 1000);
    expect(status).toMatchObject({ leader: to, haproxy: { agree: true, primary: to } });
  }, 300_000);

  it('without --to Patroni picks; a bad --to is refused before anything happens', async () => {
    const to = (await lab.members(lab.conns[0]!)).find((m) => m.role === 'leader')!.name;
    const bad = await runCli(['switchover', '--env', 'lab', '--to', to]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${to} is the leader already`);
    const res = await runCli(['switchover', '--env', 'lab', '--json'], { timeoutMs: 240_000 });
    expect(res.code, res.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ from: to, lostWrites: 0 });
  }, 300_000);

  it('a held lock keeps a switchover out', async () => {
    expect((await runCli(['lock', 'acquire', '--env', 'lab', '-m', 'backup'])).code).toBe(0);
    try {
      const res = await runCli(['switchover', '--env', 'lab']);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/environment lab is locked by \S+ \(lock acquire: backup\)/);
    } finally {
      await runCli(['lock', 'release', '--env', 'lab']);
    }
  });

  it('audit: every node\'s lines merged by time', async () => {
    const res = await runCli(['audit', '--env', 'lab', '--lines', '20', '--json']);
    expect(res.code).toBe(0);
    const { entries } = JSON.parse(res.stdout) as { entries: Array<{ node: string; time: string; line: string }> };
    expect(entries.map((e) => e.time)).toEqual([...entries.map((e) => e.time)].sort());
    expect(new Set(entries.map((e) => e.node))).toEqual(new Set(NAMES));
    expect(entries.filter((e) => /command="switchover" result=ok/.test(e.line))).toHaveLength(2 * NAMES.length);
    expect(entries.at(-1)!.line).toMatch(/command="lock release" result=ok/);
    const table = await runCli(['audit', '--env', 'lab', '--lines', '3']);
    expect(table.stdout.trim().split('\n')).toHaveLength(3);
  });
});
