import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../lab/run.ts';
import { runCli, startCli } from '../helpers/cli.js';
import { LabCluster } from './cluster.ts';

/**
 * `twincigo failover-test` on the lab's core stack: every scenario once, each restoring what it
 * broke and leaving a healthy cluster behind; a refusal on an unhealthy cluster; Ctrl-C mid-drill.
 * The outage limits here are loose (the lab shares 2 cores with the test); the goals are measured
 * by the benchmark (BENCHMARKS.md).
 */
const lab = new LabCluster();
const drill = async (scenario: string, maxOutage: number) => {
  const res = await runCli(['failover-test', '--env', 'lab', '--scenario', scenario, '--max-outage', String(maxOutage), '--json'], { timeoutMs: 400_000 });
  const r = res.stdout ? JSON.parse(res.stdout) : undefined;
  // the lab's dev profile is asynchronous: a drill may lose writes, and must then say so (exit 1)
  expect(res.code, res.stderr.slice(-3000)).toBe(r && r.lostWrites > 0 ? 1 : 0);
  return r;
};
const healthy = () => waitFor('leader + 2 streaming replicas', async () => LabCluster.healthy(await lab.members(lab.conns[0]!)), 120_000, 1000);

beforeAll(async () => {
  await lab.upCore();
  await waitFor('HAProxy routing', async () => (await runCli(['status', '--env', 'lab', '--json'])).stdout.includes('"agree": true'), 60_000, 1000);
}, 300_000);
afterAll(() => lab.release());

describe('twincigo failover-test on the lab', () => {
  for (const [scenario, max, leaderChanges] of [
    ['kill-leader', 30, true],
    ['stop-leader', 10, true],
    ['switchover', 10, true],
    ['node-down', 35, true],
    ['partition', 35, true],
    ['replica-loss', 2, false],
  ] as const) {
    it(`${scenario}: measured, nothing lost, never two primaries, the old leader back as a replica`, async () => {
      const r = await drill(scenario, max);
      expect(r).toMatchObject({ scenario, oldLeaderRejoined: true, splitBrainSeconds: 0, synchronousStandby: null });
      expect(r.acknowledgedWrites).toBeGreaterThan(20);
      expect(r.writeOutageSeconds).toBeLessThanOrEqual(max);
      // both sides probed: outside the fault, and on the faulted node through its own HAProxy
      const [outside, colocated] = r.probes;
      expect(outside.side).toBe('outside');
      expect(colocated).toMatchObject({ side: 'colocated', node: scenario === 'replica-loss' ? expect.any(String) : r.oldLeader });
      expect(colocated.node).not.toBe(outside.node);
      expect(colocated.acknowledgedWrites).toBeGreaterThan(10);
      expect(r.lostWrites).toBe(outside.lostWrites + colocated.lostWrites);
      // an acknowledged write lost fails the drill, whichever side it was on
      expect(r.passed).toBe(r.lostWrites === 0);
      if (r.lostWrites > 0) expect(r.runs[0].failures.join('; ')).toMatch(/acknowledged writes lost/);
      // outside the fault, a failover on the lab's near-zero round trip loses nothing
      if (scenario !== 'partition') expect(r.lostWrites, JSON.stringify(r.probes)).toBe(0);
      if (leaderChanges) {
        expect(r.newLeader).not.toBe(r.oldLeader);
        expect(r.timelineAfter).toBeGreaterThan(r.timelineBefore);
        expect(r.timeline.newLeader).toBeGreaterThanOrEqual(0);
        expect(r.timeline.firstWriteOnNewLeader).toBeGreaterThanOrEqual(r.timeline.newLeader);
      } else {
        expect(r.newLeader).toBe(r.oldLeader);
        expect(r.timelineAfter).toBe(r.timelineBefore);
      }
      await healthy();
    }, 400_000);
  }

  it('refuses an unhealthy cluster, touching nothing', async () => {
    const leaderOf = async () => (await lab.members(lab.conns[0]!)).find((m) => m.role === 'leader')?.name;
    const before = await leaderOf();
    const replica = lab.config.nodes.findIndex((n, i) => i !== 0 && n.name !== before); // node 0 answers for the cluster
    await lab.conns[replica]!.run(lab.compose(replica, 'stop', 'patroni'));
    try {
      await waitFor('the stopped member seen', async () => !LabCluster.healthy(await lab.members(lab.conns[0]!)), 30_000, 500);
      const res = await runCli(['failover-test', '--env', 'lab', '--scenario', 'kill-leader']);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/the cluster is not healthy, no drill: /);
      expect(await leaderOf()).toBe(before);
    } finally {
      await lab.conns[replica]!.run(lab.compose(replica, 'start', 'patroni'));
    }
    await healthy();
  }, 180_000);

  it('Ctrl-C in the middle of a drill: the fault is undone and the cluster heals', async () => {
    const run = startCli(['failover-test', '--env', 'lab', '--scenario', 'stop-leader'], { timeoutMs: 300_000 });
    let stderr = '';
    run.child.stderr!.on('data', (d) => (stderr += d));
    await waitFor('the fault injected', async () => /injected at/.test(stderr), 120_000, 200);
    run.child.kill('SIGINT');
    const res = await run.done;
    expect(res.code).toBe(130);
    expect(res.stderr).toMatch(/restore lab-[a-z0-9-]+/);
    await healthy();
    const audit = await runCli(['audit', '--env', 'lab', '--lines', '3']);
    expect(audit.stdout).toMatch(/command="failover-test --scenario stop-leader" result=interrupted/);
  }, 300_000);
});
