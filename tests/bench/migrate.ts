/**
 * Benchmark: `twincigo migrate up` applying 200 small migrations on the lab (one SSH tunnel, one
 * connection; target ≤ 10 s), median of BENCH_RUNS (default 5) runs, each from an empty tracking
 * table. Baselines measured alternately in the same run: `migrate status` (connect + read: the
 * fixed cost), a no-op `migrate up` (all applied), and the same 200 files, each in its own
 * transaction, fed to psql inside the leader's node (no tunnel, no per-statement round trip from
 * the operator's machine). Brings the core stack up first (the lab must be up) and removes it after.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LabCluster } from '../e2e/cluster.ts';
import { tempDir } from '../helpers/tmp.ts';
import { waitFor } from '../lab/run.ts';
import { median } from './median.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const COUNT = Number(process.env.BENCH_MIGRATIONS ?? 200);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const tmp = tempDir('twincigo-bench-migrations-');
const dir = `${tmp.dir}/migrations`;
mkdirSync(dir);
const bodies: string[] = [];
for (let v = 1; v <= COUNT; v++) {
  const t = `bench_${String(v).padStart(4, '0')}`;
  const body = `create table ${t} (id int primary key, note text);\ninsert into ${t} values (1, 'migration ${v}');\n`;
  bodies.push(body);
  writeFileSync(`${dir}/${String(v).padStart(4, '0')}_${t}.sql`, body);
}

function cli(args: string[]): { ms: number; code: number | null; stderr: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['bin/twincigo', 'migrate', '--dir', dir, ...args, '--env', 'lab', '--quiet'], { cwd: repo, encoding: 'utf8' });
  return { ms: performance.now() - t, code: r.status, stderr: r.stderr };
}

const lab = new LabCluster();
const psql = (script: string) => lab.conns[0]!.exec(lab.compose(0, 'exec', '-T', 'patroni', 'sh', '-c', 'PGPASSWORD="$PATRONI_SUPERUSER_PASSWORD" exec psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5000 -U postgres -d postgres -f -'), { stdin: script, timeoutMs: 300_000 });
const reset = async () => {
  const res = await psql(`drop schema if exists twincigo cascade;\ndo $$ declare t text; begin for t in select tablename from pg_tables where tablename like 'bench\\_%' loop execute format('drop table %I', t); end loop; end $$;\n`);
  if (res.code !== 0) throw new Error(`reset: ${res.stderr}`);
};

process.stderr.write('bringing the core stack up on the lab …\n');
await lab.upCore();
try {
  await waitFor('HAProxy :5000 to the leader', async () => (await lab.conns[0]!.exec(lab.sql(0, 5000, 'select 1'))).code === 0, 60_000, 500);
  const up: number[] = [];
  const status: number[] = [];
  const noop: number[] = [];
  const inNode: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await reset();
    const s = cli(['status']);
    if (s.code !== 0) throw new Error(`migrate status: exit ${s.code}: ${s.stderr}`);
    status.push(s.ms);
    const u = cli(['up']);
    if (u.code !== 0) throw new Error(`migrate up: exit ${u.code}: ${u.stderr}`);
    up.push(u.ms);
    const n = cli(['up']);
    if (n.code !== 0) throw new Error(`migrate up (no-op): exit ${n.code}: ${n.stderr}`);
    noop.push(n.ms);
    await reset();
    const t = performance.now();
    const p = await psql(bodies.map((b) => `begin;\n${b}commit;\n`).join(''));
    if (p.code !== 0) throw new Error(`psql baseline: ${p.stderr}`);
    inNode.push(performance.now() - t);
  }
  const applied = await lab.conns[0]!.exec(lab.sql(0, 5000, "select count(*) from pg_tables where tablename like 'bench\\_%'"));
  await reset();
  const r = (x: number) => Math.round(x);
  console.log(JSON.stringify({
    runs: RUNS,
    migrations: COUNT,
    tablesAfterLastRun: Number(applied.stdout.trim()),
    upMedianMs: r(median(up)),
    upPerMigrationMs: Math.round((median(up) - median(status)) / COUNT * 100) / 100,
    statusMedianMs: r(median(status)),
    noopUpMedianMs: r(median(noop)),
    psqlInNodeMedianMs: r(median(inNode)),
    upAllMs: up.map(r),
  }, null, 2));
} finally {
  tmp.cleanup();
  await lab.teardown();
}
