/**
 * Benchmark: the prod profile on the lab (environment lab-prod, `npm run lab:up -- --prod`).
 *  1. bootstrap from bare nodes (images present) → healthy; the no-op re-run.
 *  2. commit latency through HAProxy :5000 — one INSERT per transaction, 500 of them, p50/p99 —
 *     synchronous (prod's setting) against asynchronous (Patroni's config API), same run.
 *  3. failover-test kill-leader, synchronous against asynchronous (median of BENCH_PROD_RUNS).
 *  4. failover-test switchover (median of 5) on lab-prod.
 * Wipes the stack before and after (the dev-profile benchmarks find bare nodes).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { wipeStack } from '../lab/faults.ts';
import { emptyOffsite } from '../lab/offsite.ts';

const ENV = 'lab-prod';
const RUNS = Number(process.env.BENCH_PROD_RUNS ?? 3);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const cli = (args: string[]) => spawnSync(process.execPath, ['bin/twincigo', args[0]!, '--env', ENV, ...args.slice(1)], { cwd: repo, encoding: 'utf8', timeout: 1_800_000 });
const log = (row: object) => process.stderr.write(`${JSON.stringify(row)}\n`);

function ok(r: ReturnType<typeof cli>, what: string): string {
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** PATCH /config through the leader's Patroni (credentials from its container, given to curl on stdin). */
function patchConfig(json: object): void {
  const script = 'printf \'user = "%s:%s"\\n\' "$PATRONI_RESTAPI_USERNAME" "$PATRONI_RESTAPI_PASSWORD" | curl -sS -K - -f -X PATCH -H "Content-Type: application/json" -d "$1" http://127.0.0.1:8008/config';
  ok(cli(['exec', '--leader', '--in', 'patroni', '--', 'sh', '-c', script, 'sh', JSON.stringify(json)]), 'PATCH /config');
}

/** 500 single-INSERT transactions through the leader node's HAProxy :5000; p50/p99 in ms. */
const LATENCY = `
import os, time, psycopg2
c = psycopg2.connect(host="127.0.0.1", port=5000, user="postgres", dbname="postgres", password=os.environ["PATRONI_SUPERUSER_PASSWORD"])
c.autocommit = True
cur = c.cursor()
cur.execute("create table if not exists bench_commit (id bigserial primary key, at timestamptz default now())")
for _ in range(20): cur.execute("insert into bench_commit default values")
xs = []
for _ in range(500):
    t = time.perf_counter(); cur.execute("insert into bench_commit default values"); xs.append((time.perf_counter() - t) * 1000)
xs.sort()
cur.execute("select current_setting('synchronous_standby_names')")
print(round(xs[249], 2), round(xs[494], 2), repr(cur.fetchone()[0]))
`;
function commitLatency(label: string): object {
  const [p50, p99, names] = ok(cli(['exec', '--leader', '--in', 'patroni', '--', 'python3', '-c', LATENCY]), 'latency').trim().split(' ');
  const row = { measure: `commit latency through :5000, ${label}`, p50Ms: Number(p50), p99Ms: Number(p99), synchronous_standby_names: names };
  log(row);
  return row;
}

function waitSettled(): void {
  for (let i = 0; i < 60; i++) {
    if (cli(['status', '--json']).status === 0) return;
    spawnSync('sleep', ['2']);
  }
  throw new Error('lab-prod did not settle');
}

function drill(scenario: string, runs: number, label: string): object {
  const j = JSON.parse(ok(cli(['failover-test', '--scenario', scenario, '--runs', String(runs), '--max-outage', '999', '--yes', '--json']), scenario));
  const row = {
    measure: `${scenario}, ${label}`, writeOutageMedianS: j.writeOutageSeconds, writeOutageRunsS: j.runs.map((x: any) => x.writeOutageSeconds),
    newLeaderMedianS: j.timeline.newLeader, firstWriteOnNewLeaderMedianS: j.timeline.firstWriteOnNewLeader,
    lostWrites: j.lostWrites, lostBySide: j.probes.map((p: any) => `${p.side} ${p.lostWrites}`), synchronousStandby: j.synchronousStandby,
  };
  log(row);
  return row;
}

await wipeStack();
await emptyOffsite();
try {
  const rows: object[] = [];
  let t = performance.now();
  ok(cli(['bootstrap', '--yes']), 'bootstrap');
  rows.push({ measure: 'bootstrap lab-prod, bare nodes (images present) → healthy', seconds: Math.round((performance.now() - t) / 100) / 10 });
  t = performance.now();
  ok(cli(['bootstrap', '--yes']), 'bootstrap again');
  rows.push({ measure: 'bootstrap lab-prod again (no-op)', seconds: Math.round((performance.now() - t) / 100) / 10 });
  rows.forEach(log);
  waitSettled();
  rows.push(commitLatency('synchronous (prod)'));
  patchConfig({ synchronous_mode: false });
  spawnSync('sleep', ['3']);
  rows.push(commitLatency('asynchronous (baseline, same run)'));
  rows.push(drill('kill-leader', RUNS, 'asynchronous (baseline, same run)'));
  patchConfig({ synchronous_mode: true });
  spawnSync('sleep', ['3']);
  waitSettled();
  rows.push(drill('kill-leader', RUNS, 'synchronous (prod)'));
  rows.push(drill('switchover', 5, 'synchronous (prod)'));
  console.log(JSON.stringify(rows, null, 2));
} finally {
  await wipeStack();
}
