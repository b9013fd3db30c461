/**
 * Benchmark: `twincigo status --env lab` on a healthy lab cluster — median wall time of 10 runs
 * and peak memory (max RSS), as an operator runs it (connections kept between runs by the holder,
 * ssh.persist) and with TWINCIGO_SSH_PERSIST=0 (every run connects: handshakes and logins), against
 * `twincigo --help` and a bare `node -e 0`, all measured alternately in the same run; and the
 * holder's own memory. Targets: ≤ 1.0 s median, ≤ 150 MB peak. Brings the whole stack up first
 * (the lab must be up: npm run lab:up) and removes it after.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LabCluster } from '../e2e/cluster.ts';
import { median } from './median.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const repo = fileURLToPath(new URL('../..', import.meta.url));
/** Wall time and max RSS of one run, measured by GNU time. */
function measure(args: string[], env: Record<string, string> = {}): { ms: number; rssMb: number; code: number | null } {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, ...env } });
  const ms = performance.now() - t;
  const rssKb = Number(r.stderr.trim().split('\n').at(-1));
  return { ms, rssMb: rssKb / 1024, code: r.status };
}

const lab = new LabCluster();
process.stderr.write("bringing the whole stack up on the lab …\n");
await lab.upAll();
try {
  // wait until status says healthy (HAProxy's first checks)
  for (let i = 0; i < 30 && measure(['bin/twincigo', 'status', '--env', 'lab', '--quiet']).code !== 0; i++) await new Promise((r) => setTimeout(r, 1000));
  const status: ReturnType<typeof measure>[] = [];
  const cold: ReturnType<typeof measure>[] = [];
  const help: ReturnType<typeof measure>[] = [];
  const bare: ReturnType<typeof measure>[] = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(measure(['-e', '0']));
    help.push(measure(['bin/twincigo', '--help']));
    status.push(measure(['bin/twincigo', 'status', '--env', 'lab', '--json']));
    cold.push(measure(['bin/twincigo', 'status', '--env', 'lab', '--json'], { TWINCIGO_SSH_PERSIST: '0' }));
  }
  // the holder: one process per user, RSS in kB from ps
  const holderRss = spawnSync('sh', ['-c', 'ps -eo rss,args | grep "[_]_ssh-persist" | awk \'{print $1}\''], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  console.log(JSON.stringify({
    runs: RUNS,
    statusExitCodes: [...new Set(status.map((s) => s.code))],
    statusMedianMs: r1(median(status.map((s) => s.ms))),
    statusPeakRssMb: r1(Math.max(...status.map((s) => s.rssMb))),
    statusFirstRunMs: r1(status[0]!.ms),
    coldExitCodes: [...new Set(cold.map((s) => s.code))],
    coldMedianMs: r1(median(cold.map((s) => s.ms))),
    holders: holderRss.length,
    holderRssMb: holderRss.map((kb) => r1(kb / 1024)),
    helpMedianMs: r1(median(help.map((s) => s.ms))),
    bareNodeMedianMs: r1(median(bare.map((s) => s.ms))),
    bareNodePeakRssMb: r1(Math.max(...bare.map((s) => s.rssMb))),
  }, null, 2));
} finally {
  await lab.teardown();
}
