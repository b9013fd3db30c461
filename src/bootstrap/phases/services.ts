import type { NodeConfig } from '../../config/model.js';
import type { Role } from '../../config/roles.js';
import type { Phase, Step } from '../../engine/types.js';
import { minioSetupCommand } from '../../remote/minio.js';
import { stanzaSetupCommand } from '../../remote/pgbackrest.js';
import { STANZA } from '../../backup/pgbackrest-config.js';
import { TwincigoError, errorMessage } from '../../errors.js';
import { operator } from '../../cluster/lock.js';
import { upload } from '../../ssh/upload.js';
import { appliedFile, bundleDigest } from '../../stack/bundle.js';
import { servicesFor } from '../../stack/compose-files.js';
import { bundleOf, isConverged, type BootstrapRun } from '../bootstrap-run.js';
import { CONVERGED, WAITS, conn, upStep, type Ctx } from '../steps.js';

/** In dependency order on each node (Redis before the backend, MinIO and its bucket before Supabase); nodes in parallel. */
const GROUPS: Array<{ title: string; roles: Role[] }> = [
  // what the database nodes run beside the core (prod's exporters): the core's own services are up already
  { title: 'exporters', roles: ['etcd', 'patroni', 'haproxy'] },
  { title: 'Redis', roles: ['redis'] },
  { title: 'storage', roles: ['storage'] },
  { title: 'Supabase', roles: ['supabase'] },
  { title: 'backend', roles: ['backend'] },
  { title: 'monitoring', roles: ['monitoring'] },
  // pgBackRest beside each database node, then the repository host and its schedule
  { title: 'backups', roles: ['archive', 'backup'] },
  // after Loki: the agents' first pushes find it up
  { title: 'log agent', roles: ['logs'] },
];

/** Where the app tier's Swarm stack goes (prod): after what it uses (Redis, MinIO), before monitoring probes the edge. */
const APP_TIER_BEFORE = 'monitoring';

/** 9. The rest of the stack, health-gated (`compose up --wait`): what the app tier uses, then (after the Swarm stack, prod) what watches it. */
export function servicesPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  const at = GROUPS.findIndex((g) => g.title === APP_TIER_BEFORE);
  return [
    { title: 'Services (exporters, Redis, storage, Supabase, backend)', steps: groupSteps(run, GROUPS.slice(0, at)) },
  ];
}

/** 9c. After the app tier: monitoring (its edge probe finds the edge up), backups, the log agent. */
export function watchersPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  const at = GROUPS.findIndex((g) => g.title === APP_TIER_BEFORE);
  return [{ title: 'Services (monitoring, backups, log agent)', steps: groupSteps(run, GROUPS.slice(at)) }];
}

function groupSteps(run: BootstrapRun, groups: typeof GROUPS): Step<NodeConfig>[] {
  const core = new Set(['etcd', 'patroni', 'haproxy']);
  const servicesOf = (roles: Role[]) => (n: NodeConfig) => servicesFor(roles.filter((r) => n.roles.includes(r)), run.env).filter((s) => !core.has(s));
  return groups.flatMap((g) => {
    const all = [...new Set(run.env.nodes.flatMap(servicesOf(g.roles)))];
    const up = upStep(run, `${g.title}: compose up --wait ${all.join(' ')}`, servicesOf(g.roles), WAITS.services, (n) => servicesOf(g.roles)(n).length > 0);
    if (g.title === 'storage' && all.includes('minio')) return [up, minioStep(run)];
    if (g.title === 'backups' && all.includes('pgbackrest-repo')) return [up, stanzaStep(run)];
    return [up];
  });
}

/** MinIO (prod): the bucket and storage's own key, limited to it — never the root user. Idempotent. */
function minioStep(run: BootstrapRun): Step<NodeConfig> {
  return {
    title: "MinIO: storage's bucket and its own access key",
    when: (n) => n.roles.includes('storage') && servicesFor(['storage'], run.env).includes('minio'),
    skip: ({ node }: Ctx) => (isConverged(run, node) ? CONVERGED : false),
    timeoutMs: 60_000,
    run: async ({ node }: Ctx) => (await (await conn(run, node)).run(minioSetupCommand(), { timeoutMs: 50_000 })).stdout.trim(),
  };
}

/** pgBackRest (role backup): the stanza created from the cluster, and archiving checked end to end (a WAL segment pushed and found). Idempotent. */
function stanzaStep(run: BootstrapRun): Step<NodeConfig> {
  return {
    title: 'pgBackRest: stanza-create, check (WAL reaches the repository), a first full backup',
    when: (n) => n.roles.includes('backup'),
    skip: ({ node }: Ctx) => (isConverged(run, node) ? CONVERGED : false),
    timeoutMs: 180_000,
    run: async ({ node }: Ctx) => {
      const res = await (await conn(run, node)).run(stanzaSetupCommand(), { timeoutMs: 170_000 }).catch((err: unknown) => {
        throw anotherClustersRepository(err, run.env.name) ?? err;
      });
      return `stanza ready; archiving works${/first full backup taken/.test(res.stdout) ? '; first full backup taken' : ''}`;
    },
  };
}

/**
 * pgBackRest's "[028] backup and archive info files exist but do not match the database": the
 * repository holds the backups of another cluster — typically this environment's before its nodes
 * were wiped and bootstrapped anew. Nothing is deleted for the operator: the error says both ways out.
 */
export function anotherClustersRepository(err: unknown, envName: string): TwincigoError | undefined {
  const text = errorMessage(err);
  if (!/\[028\]|do not match the database/.test(text)) return undefined;
  const repo = [...text.matchAll(/ on repo(\d+)/g)].pop()?.[1] ?? '1';
  const where = repo === '1' ? 'the repository host\'s repository (repo1)' : `the offsite repository (repo${repo}: /twincigo/${envName} in BACKUP_S3_BUCKET)`;
  return new TwincigoError(`pgBackRest: ${where} holds the backups of another cluster (another database system identifier) — this one cannot archive there`, undefined, [
    `keep them: give this cluster another place${repo === '1' ? ' (a new repository host, or move the old repository directory aside)' : ' (another BACKUP_S3_BUCKET)'} and bootstrap again`,
    `or, if they are no longer wanted, delete them on the repository host: docker exec -u postgres twincigo-pgbackrest-repo-1 sh -c 'pgbackrest --stanza=${STANZA} stop && pgbackrest --stanza=${STANZA} --repo=${repo} stanza-delete --force; pgbackrest --stanza=${STANZA} start' — then bootstrap again`,
  ]);
}

/** 10. The applied bundle's digest on each node: the next run knows the node has converged. */
export function recordPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  return [{
    title: 'Record',
    steps: [{
      title: `applied bundle digest (${'.applied.json'})`,
      skip: ({ node }: Ctx) => (isConverged(run, node) ? 'unchanged' : false),
      run: async ({ node }: Ctx) => {
        const digest = bundleDigest(bundleOf(run, node));
        const record = `${JSON.stringify({ digest, at: new Date().toISOString(), by: operator(), command: 'bootstrap' })}\n`;
        await upload(await conn(run, node), [{ remotePath: appliedFile(run.env.baseDir), content: record, mode: 0o644 }]);
        return digest.slice(0, 12);
      },
    }],
  }];
}
