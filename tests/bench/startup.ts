/**
 * Benchmark: `twincigo --help` cold start against a bare `node -e 0` measured in the same run,
 * alternating the two so machine noise hits both alike. Target: median ≤ bare node + 60 ms.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './median.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const bin = fileURLToPath(new URL('../../bin/twincigo', import.meta.url));
const once = (args: string[]) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${r.status}`);
  return performance.now() - t;
};
const bare: number[] = [];
const help: number[] = [];
once([bin, '--help']); // warm the file cache once
for (let i = 0; i < RUNS; i++) {
  bare.push(once(['-e', '0']));
  help.push(once([bin, '--help']));
}
const r1 = (x: number) => Math.round(x * 10) / 10;
const m = { bareNodeMs: r1(median(bare)), helpMs: r1(median(help)) };
console.log(JSON.stringify({ runs: RUNS, node: process.version, ...m, overheadMs: r1(m.helpMs - m.bareNodeMs), targetOverheadMs: 60 }, null, 2));
