/**
 * Benchmark: `twincigo node replace` on the dev lab with a database of at least 1 GB (pgbench -i
 * -s 70 through HAProxy, then a full backup). A replica's machine and disk are destroyed, a bare
 * machine started for it at the other of two addresses, and node replace run — its database cloned
 * from the latest backup, then (next time) from the leader: BENCH_RUNS pairs (default 2), medians.
 * Each replacement runs under a write probe on a survivor (a write every 100 ms: the longest gap).
 * Baseline in the same run: reading the leader's data directory (tar to /dev/null), the disk's floor.
 * The lab's node ends at its own address; the pgbench tables are dropped.
 */
import { ProbeSession, summarizeProbe } from '../../dist/cluster/write-probe.js';
import { SshPool } from '../../dist/ssh/pool.js';
import { LabCluster } from '../e2e/cluster.ts';
import { labConfig } from '../e2e/helpers.ts';
import { NODES, containerName } from '../lab/config.ts';
import { writeInventory } from '../lab/inventory.ts';
import { SPARE_IPS, destroyNode, startBareNode } from '../lab/machines.ts';
import { inNode } from '../lab/run.ts';
import { runCli } from '../helpers/cli.ts';
import { median } from './median.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const SCALE = Number(process.env.BENCH_SCALE ?? 70);
const lab = new LabCluster();

async function cli(args: string[]): Promise<Record<string, any>> {
  const r = await runCli([...args, '--env', 'lab', '--yes', '--json'], { timeoutMs: 3_600_000 });
  if (r.code !== 0) throw new Error(`twincigo ${args.join(' ')}: exit ${r.code}: ${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout);
}
const inPatroni = (node: string, script: string) => inNode(containerName(node), ['docker', 'exec', 'twincigo-patroni-1', 'sh', '-c', `export PGPASSWORD="$PATRONI_SUPERUSER_PASSWORD"; ${script}`]);
const s1 = (ms: number) => Math.round(ms / 100) / 10;

process.stderr.write('bringing the stack up on the lab …\n');
await lab.upAll();
const st = await cli(['status']);
const leader: string = st.leader;
const target = NODES.find((n) => n.name !== leader && !n.roles.includes('backup'))!;
const probeOn = NODES.find((n) => n.name !== leader && n.name !== target.name)!.name;
const addresses = [target.ip, SPARE_IPS[0]];
let at = 0;
const results: Record<'backup' | 'leader', Array<{ ms: number; gap: number; lost: number; with: string }>> = { backup: [], leader: [] };
const tar: number[] = [];
try {
  process.stderr.write(`pgbench -i -s ${SCALE} through HAProxy, then a full backup …\n`);
  await inPatroni(leader, `pgbench -i -q -s ${SCALE} -h 127.0.0.1 -p 5000 -U postgres postgres`);
  const dbBytes = Number((await lab.query(0, 5000, "select pg_database_size('postgres')")).trim());
  await cli(['backup', '--type', 'full']);
  for (let i = 0; i < RUNS; i++) {
    for (const from of ['backup', 'leader'] as const) {
      const t = performance.now();
      await inPatroni(leader, 'tar -cf - -C "$PGDATA" . | wc -c > /dev/null');
      tar.push(performance.now() - t);
      const image = await destroyNode(target.name);
      at = 1 - at;
      await startBareNode(target.name, addresses[at]!, image);
      const pool = new SshPool(labConfig().dir, { acceptNewHostKeys: false, passphrase: async () => '' });
      const probe = new ProbeSession(await pool.get(labConfig().env.nodes.find((n) => n.name === probeOn)!));
      await probe.start();
      process.stderr.write(`node replace ${target.name} → ${addresses[at]} (clone from ${from}) …\n`);
      const out = await cli(['node', 'replace', target.name, '--host', addresses[at]!, '--clone-from', from]);
      await probe.stop();
      const w = summarizeProbe(probe.events, 'w');
      const lost = await probe.lostWrites();
      await pool.closeAll();
      const expected = from === 'backup' ? 'pgbackrest' : 'basebackup';
      if (out.clonedWith !== expected) throw new Error(`clone from ${from}: Patroni used ${out.clonedWith}, not ${expected}`);
      results[from].push({ ms: out.durationMs, gap: w.outageSeconds, lost, with: out.clonedWith });
      process.stderr.write(`  ${s1(out.durationMs)} s, longest write gap ${w.outageSeconds} s, ${lost} lost\n`);
    }
  }
  const med = (from: 'backup' | 'leader', k: 'ms' | 'gap') => median(results[from].map((r) => r[k]));
  console.log(JSON.stringify({
    databaseMiB: Math.round(dbBytes / 1048576),
    runs: RUNS,
    replaceFromBackupS: s1(med('backup', 'ms')),
    replaceFromLeaderS: s1(med('leader', 'ms')),
    readDataDirS: s1(median(tar)),
    longestWriteGapS: Math.max(...[...results.backup, ...results.leader].map((r) => r.gap)),
    lostWrites: [...results.backup, ...results.leader].reduce((s, r) => s + r.lost, 0),
    all: results,
  }, null, 2));
} finally {
  if (at !== 0) {
    // the node back at its own address (an odd number of replacements, after a failure)
    const image = await destroyNode(target.name);
    await startBareNode(target.name, target.ip, image);
    await cli(['node', 'replace', target.name, '--host', target.ip]).catch((e) => process.stderr.write(`${e}\n`));
  }
  writeInventory('lab');
  await inPatroni(leader, 'psql -h 127.0.0.1 -p 5000 -U postgres -c "drop table if exists pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers"').catch(() => undefined);
  await lab.release();
}
