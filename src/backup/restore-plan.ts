import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { haproxyRoutesTo } from '../cluster/health.js';
import { leaderIs, patroniStreaming } from '../cluster/patroni.js';
import { steadily, waitUntil } from '../cluster/wait.js';
import type { OnceStep, Plan } from '../engine/types.js';
import { TwincigoError } from '../errors.js';
import { checkCommand } from '../remote/pgbackrest.js';
import { startPatroniCommand, stopPatroniCommand } from '../remote/patroni.js';
import { forgetClusterCommand, parseRestoreOutput, restoreCommand, wipeDataCommand, type RestoreOutput } from '../remote/restore.js';
import type { SshPool } from '../ssh/pool.js';
import { patroniScope } from '../stack/patroni-config.js';
import { repoHost } from './pgbackrest-config.js';
import { describeTarget, restoreOptions, type RestoreTarget } from './target.js';

/** Who is who in a restore, read before anything is touched. */
export interface RestoreSetup {
  env: EnvironmentConfig;
  target: RestoreTarget;
  /** The member restored and started first: the leader when there was one (its data is the newest: --delta rewrites least). */
  primary: NodeConfig;
  replicas: NodeConfig[];
  /** The leader found before the restore (its WAL is archived first), if any. */
  leaderBefore: NodeConfig | undefined;
  /** --repo: the repository to restore from (default: pgBackRest looks in each). */
  repo?: number | undefined;
}

export interface RestoreResult {
  output?: RestoreOutput;
  archivedBefore?: boolean;
}

const errLines = (s: string) => s.split('\n').filter((l) => /ERROR|FATAL|stopped during|still running/.test(l)).slice(-4).join('; ');

/** What the steps share. */
interface R {
  s: RestoreSetup;
  out: RestoreResult;
  conn: (n: NodeConfig) => ReturnType<SshPool['get']>;
  repo: NodeConfig;
}

const archiveFirstStep = ({ s, out, conn, repo }: R): OnceStep => ({
  title: 'the WAL written so far pushed to the repository (pgbackrest check)',
  timeoutMs: 240_000,
  skip: () => (s.leaderBefore ? false : 'no running leader'),
  run: async ({ log }) => {
    const res = await (await conn(repo)).exec(checkCommand(), { timeoutMs: 200_000 });
    out.archivedBefore = res.code === 0;
    if (res.code !== 0) log(`not archived: ${errLines(res.stdout + res.stderr) || `exit ${res.code}`}`);
    return res.code === 0 ? 'archived' : 'could not archive the last WAL: the restore uses what the repository has';
  },
});

const restoreStep = ({ s, out, conn }: R): OnceStep => ({
  title: `pgbackrest restore (--delta) to ${describeTarget(s.target)}, recovered and promoted`,
  timeoutMs: 6 * 3600_000,
  run: async ({ log, signal }) => {
    const res = await (await conn(s.primary)).exec(restoreCommand('inplace', s.env.baseDir, restoreOptions(s.target, s.repo)), { timeoutMs: 6 * 3600_000, signal, onStderr: (l) => log(l.trimEnd()) });
    if (res.code !== 0) throw new TwincigoError(`the restore on ${s.primary.name} failed: ${errLines(res.stderr + res.stdout) || res.stderr.trim().split('\n').slice(-3).join('; ') || `exit ${res.code}`}`);
    const o = (out.output = parseRestoreOutput(res.stdout));
    for (const l of o.log) log(l);
    return `timeline ${o.timeline}; files in ${((o.restoredMs ?? 0) / 1000).toFixed(1)} s, recovered in ${(((o.startedMs ?? 0) - (o.restoredMs ?? 0)) / 1000).toFixed(1)} s`;
  },
});

const leaderUpStep = ({ s, conn }: R): OnceStep => ({
  title: `${s.primary.name} leads the restored cluster`,
  timeoutMs: 240_000,
  run: async ({ signal, log }) => {
    await (await conn(s.primary)).run(startPatroniCommand(), { timeoutMs: 60_000 });
    return waitUntil(`${s.primary.name} as leader`, async () => leaderIs(await conn(s.primary), { name: s.primary.name }), { timeoutMs: 220_000, intervalMs: 1000, signal, log });
  },
});

const streamingStep = ({ s, conn }: R): OnceStep => ({
  title: 'every replica cloned and streaming',
  timeoutMs: 6 * 3600_000,
  run: async ({ signal, log }) => {
    const names = [s.primary, ...s.replicas].map((n) => n.name);
    const ms = await waitUntil('leader + streaming replicas', async () => patroniStreaming(await conn(s.primary), names), { timeoutMs: 6 * 3600_000, intervalMs: 2000, signal, log });
    return `${ms.length} members, timeline ${Math.max(...ms.map((m) => m.timeline ?? 0))}`;
  },
});

const routedStep = ({ s, conn }: R): OnceStep => ({
  title: 'HAProxy on every node routes to the restored leader',
  timeoutMs: 120_000,
  run: async ({ signal, log }) => {
    await Promise.all(s.env.nodes.filter((n) => n.roles.includes('haproxy')).map(async (n) =>
      waitUntil(`HAProxy on ${n.name}`, steadily(async () => haproxyRoutesTo(await conn(n), s.primary.privateAddress), 2000), { timeoutMs: 100_000, intervalMs: 500, signal, log })));
    return `→ ${s.primary.name}`;
  },
});

const archivingStep = ({ conn, repo }: R): OnceStep => ({
  title: 'archiving works on the new timeline (pgbackrest check)',
  timeoutMs: 240_000,
  retries: 2,
  retryDelayMs: 5000,
  run: async () => {
    const res = await (await conn(repo)).exec(checkCommand(), { timeoutMs: 200_000 });
    if (res.code !== 0) throw new TwincigoError(`pgbackrest check failed: ${errLines(res.stdout + res.stderr) || `exit ${res.code}`}`);
    return 'a WAL segment of the new timeline reached the repository';
  },
});

/**
 * The whole cluster back to a point: archive what the leader has not yet pushed; stop Patroni
 * (replicas first, so none takes over); forget the cluster in etcd; restore and recover on one
 * member (promoted on a new timeline); start it as the leader; wipe and re-clone the others from
 * it; check HAProxy routes to it everywhere and archiving works on the new timeline.
 */
export function restorePlan(pool: SshPool, s: RestoreSetup, out: RestoreResult): Plan<NodeConfig> {
  const r: R = { s, out, conn: (n) => pool.get(n), repo: repoHost(s.env)! };
  const { env, primary, replicas } = s;
  const stop = { title: 'Patroni stopped', timeoutMs: 90_000, run: async ({ node }: { node: NodeConfig }) => void (await (await r.conn(node)).run(stopPatroniCommand(), { timeoutMs: 80_000 })) };
  const forget = { title: `keys under /service/${patroniScope(env)}/ removed`, timeoutMs: 30_000, run: async () => `${(await (await r.conn(primary)).run(forgetClusterCommand(patroniScope(env)), { timeoutMs: 20_000 })).stdout.trim() || '0'} keys` };
  return {
    title: `restore ${env.name} to ${describeTarget(s.target)}`,
    phases: [
      { title: 'Archive the last WAL', then: [archiveFirstStep(r)] },
      { title: 'Stop Patroni on the replicas', nodes: replicas, steps: [stop] },
      { title: `Stop Patroni on ${primary.name}`, nodes: [primary], steps: [stop] },
      { title: 'Forget the cluster in etcd', then: [forget] },
      { title: `Restore on ${primary.name}`, then: [restoreStep(r)] },
      { title: 'Start the restored leader', then: [leaderUpStep(r)] },
      {
        title: 'Re-clone the replicas from it',
        nodes: replicas,
        steps: [
          { title: 'old data removed', timeoutMs: 300_000, run: async ({ node }) => void (await (await r.conn(node)).run(wipeDataCommand(), { timeoutMs: 290_000 })) },
          { title: 'Patroni started', timeoutMs: 60_000, run: async ({ node }) => void (await (await r.conn(node)).run(startPatroniCommand(), { timeoutMs: 50_000 })) },
        ],
        then: [streamingStep(r)],
      },
      { title: 'Check', then: [routedStep(r), archivingStep(r)] },
    ],
  };
}
