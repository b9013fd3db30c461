/**
 * Benchmark: `twincigo bootstrap --env lab` — (1) bare nodes with images present → healthy
 * cluster, against the same stack brought up by the e2e harness (LabCluster.upAll: upload +
 * compose up with health gates, no preflight/firewall/lock/report) measured alternately in the same
 * run; (2) the no-op re-run on a healthy cluster, against `twincigo status` (connect + one probe
 * per node: the least any re-run must do). Targets: ≤ 90 s and ≤ 10 s. Needs the lab up.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LabCluster } from '../e2e/cluster.ts';
import { wipeStack } from '../lab/faults.ts';
import { median } from './median.ts';

const FRESH_RUNS = Number(process.env.BENCH_BOOTSTRAP_RUNS ?? 3);
const NOOP_RUNS = Number(process.env.BENCH_RUNS ?? 5);
const repo = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[]): { ms: number; code: number | null; stderr: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['bin/twincigo', ...args], { cwd: repo, encoding: 'utf8' });
  return { ms: performance.now() - t, code: r.status, stderr: r.stderr };
}
const must = (r: { code: number | null; stderr: string }, what: string) => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return r;
};

const fresh: number[] = [];
const harness: number[] = [];
const noop: number[] = [];
const status: number[] = [];
try {
  for (let i = 0; i < FRESH_RUNS; i++) {
    await wipeStack();
    const lab = new LabCluster();
    const t = performance.now();
    await lab.upAll();
    harness.push(performance.now() - t);
    await lab.pool.closeAll();
    await wipeStack();
    fresh.push(must(cli(['bootstrap', '--env', 'lab', '--yes', '--quiet']), 'bootstrap').ms);
    process.stderr.write(`run ${i + 1}: bootstrap ${Math.round(fresh.at(-1)!)} ms, harness ${Math.round(harness.at(-1)!)} ms\n`);
  }
  for (let i = 0; i < NOOP_RUNS; i++) {
    status.push(must(cli(['status', '--env', 'lab', '--quiet']), 'status').ms);
    noop.push(must(cli(['bootstrap', '--env', 'lab', '--yes', '--quiet']), 'no-op bootstrap').ms);
  }
  const s = (x: number) => Math.round(x / 100) / 10;
  console.log(JSON.stringify({
    freshRuns: FRESH_RUNS,
    bootstrapFreshMedianS: s(median(fresh)),
    harnessFreshMedianS: s(median(harness)),
    noopRuns: NOOP_RUNS,
    bootstrapNoopMedianS: s(median(noop)),
    statusMedianS: s(median(status)),
  }, null, 2));
} finally {
  await wipeStack();
}
