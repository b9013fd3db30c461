/**
 * Benchmark: `twincigo failover-test` on the lab's core stack — every scenario, 3 runs each (the
 * command's own --runs 3 gives the medians). Baseline in the same run: kill-leader with Patroni's
 * default timings (ttl 30, loop_wait 10, retry_timeout 10, set through Patroni's config API), and
 * the lost-writes check of the prod profile: kill-leader with synchronous_mode on. Needs the lab up.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PATRONI_TIMINGS } from '../../dist/stack/timings.js';
import { LabCluster } from '../e2e/cluster.ts';

const RUNS = Number(process.env.BENCH_FAILOVER_RUNS ?? 3);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const cli = (args: string[]) => spawnSync(process.execPath, ['bin/twincigo', ...args], { cwd: repo, encoding: 'utf8', timeout: 1_800_000 });

/** PATCH /config through the leader's Patroni (credentials from its container, via stdin config). */
function patchConfig(json: object): void {
  const script = 'printf \'user = "%s:%s"\\n\' "$PATRONI_RESTAPI_USERNAME" "$PATRONI_RESTAPI_PASSWORD" | curl -sS -K - -f -X PATCH -H "Content-Type: application/json" -d "$1" http://127.0.0.1:8008/config';
  const r = cli(['exec', '--env', 'lab', '--leader', '--in', 'patroni', '--', 'sh', '-c', script, 'sh', JSON.stringify(json)]);
  if (r.status !== 0) throw new Error(`PATCH /config failed: ${r.stderr}`);
}

function drill(scenario: string): Record<string, unknown> {
  const r = cli(['failover-test', '--env', 'lab', '--scenario', scenario, '--runs', String(RUNS), '--max-outage', '999', '--json']);
  if (r.status !== 0) throw new Error(`${scenario}: exit ${r.status}: ${r.stderr.slice(-2000)}`);
  const j = JSON.parse(r.stdout) as Record<string, any>;
  const row = {
    scenario,
    writeOutageMedianS: j.writeOutageSeconds,
    writeOutageRunsS: j.runs.map((x: any) => x.writeOutageSeconds),
    readOutageMedianS: j.readOutageSeconds,
    newLeaderMedianS: j.timeline.newLeader,
    acknowledgedWrites: j.acknowledgedWrites,
    lostWrites: j.lostWrites,
    splitBrainSeconds: j.splitBrainSeconds,
    oldLeaderRejoined: j.oldLeaderRejoined,
  };
  process.stderr.write(`${JSON.stringify(row)}\n`);
  return row;
}

const lab = new LabCluster();
await lab.upCore();
try {
  // HAProxy's first checks
  for (let i = 0; i < 30 && !cli(['status', '--env', 'lab', '--json']).stdout.includes('"agree": true'); i++) await new Promise((r) => setTimeout(r, 1000));
  const only = process.env.BENCH_FAILOVER_SCENARIOS?.split(',');
  const rows = ['kill-leader', 'stop-leader', 'switchover', 'node-down', 'partition', 'replica-loss'].filter((s) => !only || only.includes(s)).map(drill);
  patchConfig({ ttl: 30, loop_wait: 10, retry_timeout: 10 });
  const defaults = { ...drill('kill-leader'), scenario: 'kill-leader, Patroni default timings (baseline)' };
  patchConfig({ ...PATRONI_TIMINGS, synchronous_mode: true });
  const sync = { ...drill('kill-leader'), scenario: 'kill-leader, synchronous_mode on (prod profile)' };
  patchConfig({ synchronous_mode: false });
  console.log(JSON.stringify([...rows, defaults, sync], null, 2));
} finally {
  await lab.teardown();
}
