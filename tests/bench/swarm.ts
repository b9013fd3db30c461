/**
 * Benchmark: prod's app tier on Swarm (environment lab-prod, `npm run lab:up -- --prod`, bootstrapped
 * by this script from bare nodes).
 *  1. deploy: a new backend image rolled out by Swarm (start-first, two replicas) against the no-op
 *     deploy (the baseline, same run: the render, the comparison, no update) — medians of BENCH_SWARM_RUNS.
 *  2. failover-test app-node-down (a node without the DB leader cut off), node-down and partition (the
 *     leader's node): the API outage through the other edge against the write outage of the same
 *     runs, and the tasks Swarm killed as unhealthy meanwhile (a check that needs the database).
 * Wipes the stack before and after.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { wipeStack } from '../lab/faults.ts';
import { emptyOffsite } from '../lab/offsite.ts';
import { pushImage } from '../lab/images.ts';
import { readState } from '../lab/lab.ts';
import { LAB_PROD_ENV_FILE } from '../lab/config.ts';
import { median } from './median.ts';

const ENV = 'lab-prod';
const RUNS = Number(process.env.BENCH_SWARM_RUNS ?? 3);
/** Drills per scenario (each holds a node cut until Swarm moved its tasks, then spreads them back: ~1.5 min). */
const DRILLS = Number(process.env.BENCH_SWARM_DRILLS ?? RUNS);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const cli = (args: string[]) => spawnSync(process.execPath, ['bin/twincigo', args[0]!, '--env', ENV, ...args.slice(1)], { cwd: repo, encoding: 'utf8', timeout: 1_800_000 });
const log = (row: object) => process.stderr.write(`${JSON.stringify(row)}\n`);
const secs = (t: number) => Math.round((performance.now() - t) / 100) / 10;

/** The stack's tasks Swarm replaced because their healthcheck called them unhealthy (task ids). */
function unhealthyKills(): string[] {
  const r = spawnSync('docker', ['exec', 'twincigo-lab-prod-hil-1', 'sh', '-c', 'docker service ps --no-trunc --filter desired-state=shutdown --format "{{.ID}} {{.Error}}" $(docker service ls -q --filter label=com.docker.stack.namespace=twincigo-app)'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.includes('unhealthy container')).map((l) => l.split(' ')[0]!);
}

function ok(r: ReturnType<typeof cli>, what: string): string {
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** Backend images that differ only by a label, pushed to the lab registry: what a release of the app team looks like to Swarm. */
async function variants(n: number): Promise<string[]> {
  const ref = readState()!.images.BACKEND_IMAGE!;
  const local = ref.slice(ref.indexOf('/') + 1);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const dir = mkdtempSync('/var/tmp/twincigo-bench-variant-');
    writeFileSync(`${dir}/Dockerfile`, `FROM ${local}\nLABEL io.twincigo.bench=${i}\n`);
    spawnSync('docker', ['build', '-q', '-t', `${local}-bench${i}`, dir]);
    rmSync(dir, { recursive: true, force: true });
    out.push((await pushImage(`${local}-bench${i}`)).pinned);
  }
  return out;
}

function waitSettled(): void {
  for (let i = 0; i < 90; i++) {
    if (cli(['status', '--json']).status === 0) return;
    spawnSync('sleep', ['2']);
  }
  throw new Error('lab-prod did not settle');
}

await wipeStack();
await emptyOffsite();
const envText = readFileSync(LAB_PROD_ENV_FILE, 'utf8');
try {
  let t = performance.now();
  ok(cli(['bootstrap', '--yes']), 'bootstrap');
  log({ measure: 'bootstrap lab-prod with the Swarm stack, bare nodes (images present) → healthy', seconds: secs(t) });
  waitSettled();
  const original = /^BACKEND_IMAGE=(.*)$/m.exec(envText)![1]!;
  const images = await variants(RUNS);
  const noop: number[] = [];
  const rolled: number[] = [];
  for (const image of images) {
    t = performance.now();
    ok(cli(['deploy', '--yes']), 'no-op deploy');
    noop.push(secs(t));
    writeFileSync(LAB_PROD_ENV_FILE, envText.replace(`BACKEND_IMAGE=${original}`, `BACKEND_IMAGE=${image}`), { mode: 0o600 });
    t = performance.now();
    ok(cli(['deploy', '--yes']), 'deploy of a new backend image');
    rolled.push(secs(t));
  }
  log({ measure: 'deploy, no change (baseline, same run)', medianS: median(noop), runsS: noop });
  log({ measure: 'deploy of a new backend image: Swarm rolls 2 tasks, start-first, 15 s monitor each', medianS: median(rolled), runsS: rolled });
  writeFileSync(LAB_PROD_ENV_FILE, envText, { mode: 0o600 });
  ok(cli(['deploy', '--yes']), 'deploy back');
  for (const scenario of ['app-node-down', 'node-down', 'partition']) {
    waitSettled();
    const killed = unhealthyKills();
    const j = JSON.parse(ok(cli(['failover-test', '--scenario', scenario, '--runs', String(DRILLS), '--max-outage', '999', '--yes', '--json']), scenario));
    log({
      measure: `failover-test ${scenario}: API through the other edge vs writes`, apiOutageMedianS: j.api.outageSeconds, apiOutageRunsS: j.runs.map((x: any) => x.api.outageSeconds), apiPathsLastRun: j.api.paths,
      writeOutageMedianS: j.writeOutageSeconds, writeOutageRunsS: j.runs.map((x: any) => x.writeOutageSeconds), apiLimitS: j.api.limitSeconds, lostWrites: j.lostWrites,
      tasksKilledAsUnhealthy: unhealthyKills().filter((t) => !killed.includes(t)).length,
    });
  }
} finally {
  writeFileSync(LAB_PROD_ENV_FILE, envText, { mode: 0o600 });
  await wipeStack();
}
