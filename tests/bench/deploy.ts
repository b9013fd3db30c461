/**
 * Benchmark: `twincigo deploy --env lab` with nothing changed (target ≤ 5 s, zero container
 * restarts), median of BENCH_RUNS (default 7), alternating with `twincigo status` as the baseline
 * (connect + read every node). Then the write outage of a deploy that raises a restart-only
 * PostgreSQL parameter (replicas first, one switchover), of one that lowers it back (the leader
 * restarts first), and of a plain `twincigo switchover`, each measured by the write probe through
 * HAProxy. The whole stack runs on the lab first (the lab must be up); it is removed after.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProbeSession, summarizeProbe } from '../../dist/cluster/write-probe.js';
import { run as argv } from '../../dist/remote/shell.js';
import { LabCluster } from '../e2e/cluster.ts';
import { wipeStack } from '../lab/faults.ts';
import { waitFor } from '../lab/run.ts';
import { median } from './median.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const inventory = `${repo}twincigo.lab.yml`;
const saved = readFileSync(inventory, 'utf8');

function cli(args: string[]): { ms: number; code: number | null; stdout: string; stderr: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['bin/twincigo', ...args, '--env', 'lab', '--yes'], { cwd: repo, encoding: 'utf8' });
  return { ms: performance.now() - t, code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lab = new LabCluster();
async function startedAt(): Promise<string> {
  const all = await Promise.all(lab.conns.map((c) => c.run(argv('sh', '-c', 'docker inspect -f "{{.Name}} {{.State.StartedAt}}" $(docker ps -q) | sort'))));
  return all.map((r) => r.stdout).join('');
}
async function outageOf(action: () => void): Promise<{ outageSeconds: number; lost: number; ok: boolean }> {
  const probe = new ProbeSession(lab.conns[2]!);
  probe.start();
  await waitFor('the write probe', async () => probe.acknowledged('w') >= 5, 20_000, 100);
  let ok = true;
  try {
    action();
  } catch {
    ok = false;
  }
  await new Promise((r) => setTimeout(r, 2000));
  await probe.stop();
  return { outageSeconds: summarizeProbe(probe.events, 'w').outageSeconds, lost: await probe.lostWrites(), ok };
}
const withMaxConnections = (n: number) => writeFileSync(inventory, saved.replace(/^( {4}rttMs: .*)$/m, `$1\n    postgres:\n      parameters:\n        max_connections: ${n}`));

process.stderr.write('bringing the whole stack up on the lab …\n');
await wipeStack();
await lab.upAll();
try {
  await waitFor('a healthy cluster', async () => cli(['status', '--quiet']).code === 0, 60_000, 1000);
  cli(['deploy', '--quiet']); // the first deploy snapshots the bootstrapped files; not measured
  const before = await startedAt();
  const noop: number[] = [];
  const status: number[] = [];
  const codes = new Set<number | null>();
  for (let i = 0; i < RUNS; i++) {
    status.push(cli(['status', '--quiet']).ms);
    const d = cli(['deploy', '--json']);
    codes.add(d.code);
    if (JSON.parse(d.stdout).restarts !== 0) throw new Error(`no-op deploy restarted something: ${d.stdout}`);
    noop.push(d.ms);
  }
  const restartedDuringNoop = before !== (await startedAt());
  const raise = await outageOf(() => {
    withMaxConnections(200);
    if (cli(['deploy', '--quiet']).code !== 0) throw new Error('deploy failed');
  });
  const lower = await outageOf(() => {
    writeFileSync(inventory, saved);
    if (cli(['deploy', '--quiet']).code !== 0) throw new Error('deploy failed');
  });
  const sw = await outageOf(() => {
    if (cli(['switchover', '--quiet']).code !== 0) throw new Error('switchover failed');
  });
  const r = (x: number) => Math.round(x);
  console.log(JSON.stringify({
    runs: RUNS,
    noopExitCodes: [...codes],
    noopMedianMs: r(median(noop)),
    noopAllMs: noop.map(r),
    containersRestartedByNoops: restartedDuringNoop,
    statusMedianMs: r(median(status)),
    raiseMaxConnections: raise,
    lowerMaxConnections: lower,
    switchover: sw,
  }, null, 2));
} finally {
  writeFileSync(inventory, saved);
  await lab.teardown();
}
