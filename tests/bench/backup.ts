/**
 * Benchmark: backups of a database of at least 1 GB on the dev lab (pgbench -i -s 70 through
 * HAProxy), each figure a median of BENCH_RUNS (default 3) against a baseline measured in the same
 * run:
 * - `twincigo backup --type full` (from a standby) vs reading the same data directory on that
 *   standby (tar to /dev/null: the disk's floor);
 * - `twincigo backup --type incr` after a minute of pgbench writes: its size vs the full one's;
 * - `twincigo restore-test` (the latest backup + WAL into a scratch volume, started) — the issue's
 *   "restore of 1 GB ≤ 2 minutes";
 * - `twincigo restore --to latest` once: the whole cluster (restore on the leader with --delta,
 *   two replicas re-cloned);
 * - RPO: the largest age of the last archived WAL segment under a steady write load (a row every
 *   100 ms for BENCH_RPO_SEC, default 180 s), archive_timeout 60 s.
 * Brings the whole stack up first (the lab must be up) and drops the pgbench tables after.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LabCluster } from '../e2e/cluster.ts';
import { containerName } from '../lab/config.ts';
import { inNode, sleep } from '../lab/run.ts';
import { median } from './median.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 70);
const RPO_SEC = Number(process.env.BENCH_RPO_SEC ?? 180);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const lab = new LabCluster();

function cli(args: string[]): { ms: number; body: Record<string, any> } {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['bin/twincigo', ...args, '--env', 'lab', '--yes', '--json'], { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`twincigo ${args.join(' ')}: exit ${r.status}: ${r.stderr.slice(-2000)}`);
  return { ms: performance.now() - t, body: JSON.parse(r.stdout) };
}
/** A shell command in a node's Patroni container, the superuser's password from its environment. */
const inPatroni = (node: string, script: string) => inNode(containerName(node), ['docker', 'exec', 'twincigo-patroni-1', 'sh', '-c', `export PGPASSWORD="$PATRONI_SUPERUSER_PASSWORD"; ${script}`]);
const members = () => cli(['status']).body.members as Array<{ name: string; role: string }>;
const s1 = (ms: number) => Math.round(ms / 100) / 10;
const mb = (b: number) => Math.round(b / 1048576);

process.stderr.write('bringing the stack up on the lab …\n');
await lab.upAll();
try {
  const leader = members().find((m) => m.role === 'leader')!.name;
  const standby = members().find((m) => m.role !== 'leader')!.name;
  process.stderr.write(`pgbench -i -s ${SCALE} through HAProxy …\n`);
  const t0 = performance.now();
  await inPatroni(leader, `pgbench -i -q -s ${SCALE} -h 127.0.0.1 -p 5000 -U postgres postgres`);
  const initMs = performance.now() - t0;
  const dbBytes = Number((await lab.query(0, 5000, "select pg_database_size('postgres')")).trim());

  const full: number[] = [];
  const tar: number[] = [];
  let fullBytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const b = cli(['backup', '--type', 'full']);
    full.push(b.ms);
    fullBytes = b.body.backup.repositoryBytes;
    const t = performance.now();
    await inPatroni(standby, 'tar -cf - -C "$PGDATA" . | wc -c > /dev/null');
    tar.push(performance.now() - t);
  }

  const incr: number[] = [];
  let incrBytes = 0;
  for (let i = 0; i < RUNS; i++) {
    await inPatroni(leader, 'pgbench -n -T 60 -c 2 -h 127.0.0.1 -p 5000 -U postgres postgres > /dev/null');
    const b = cli(['backup', '--type', 'incr']);
    incr.push(b.ms);
    incrBytes = b.body.backup.repositoryBytes;
  }

  const drill: number[] = [];
  const drillFiles: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = cli(['restore-test']);
    drill.push(r.body.durationSeconds * 1000);
    drillFiles.push(r.body.filesSeconds * 1000);
  }

  process.stderr.write(`RPO: a row every 100 ms for ${RPO_SEC} s, the last archived segment's age every second …\n`);
  await lab.query(0, 5000, 'create table if not exists bench_rpo (id bigserial primary key, at timestamptz default clock_timestamp())');
  const writer = inPatroni(leader, `end=$(( $(date +%s) + ${RPO_SEC} )); while [ $(date +%s) -lt $end ]; do psql -X -q -h 127.0.0.1 -p 5000 -U postgres -d postgres -c 'insert into bench_rpo default values' > /dev/null; sleep 0.1; done`);
  const ages: number[] = [];
  const until = Date.now() + RPO_SEC * 1000;
  while (Date.now() < until) {
    const out = (await lab.query(0, 5000, 'select extract(epoch from now() - last_archived_time) from pg_stat_archiver')).trim();
    if (out) ages.push(Number(out));
    await sleep(1000);
  }
  await writer;

  const restore = cli(['restore', '--to', 'latest']);

  console.log(JSON.stringify({
    runs: RUNS,
    scale: SCALE,
    databaseMB: mb(dbBytes),
    pgbenchInitSec: s1(initMs),
    fullBackupMedianSec: s1(median(full)),
    tarOfTheDataDirMedianSec: s1(median(tar)),
    fullRepositoryMB: mb(fullBytes),
    incrBackupMedianSec: s1(median(incr)),
    incrRepositoryMB: mb(incrBytes),
    restoreTestMedianSec: s1(median(drill)),
    restoreTestFilesMedianSec: s1(median(drillFiles)),
    restoreWholeClusterSec: restore.body.durationSeconds,
    restoreWholeClusterFilesSec: restore.body.filesSeconds,
    restoreWholeClusterRecoverySec: restore.body.recoverySeconds,
    rpoMaxArchivedAgeSec: Math.round(Math.max(...ages) * 10) / 10,
    rpoMedianArchivedAgeSec: Math.round(median(ages) * 10) / 10,
  }, null, 1));
} finally {
  await lab.query(0, 5000, 'drop table if exists pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history, bench_rpo').catch(() => undefined);
  await lab.release();
}
