import type { NodeConfig } from '../../config/model.js';
import type { Role } from '../../config/roles.js';
import type { Phase, Step } from '../../engine/types.js';
import { minioSetupCommand } from '../../remote/minio.js';
import { stanzaSetupCommand } from '../../remote/pgbackrest.js';
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

/** 9. The rest of the stack, health-gated (`compose up --wait`). */
export function servicesPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  const core = new Set(['etcd', 'patroni', 'haproxy']);
  const servicesOf = (roles: Role[]) => (n: NodeConfig) => servicesFor(roles.filter((r) => n.roles.includes(r)), run.env).filter((s) => !core.has(s));
  const steps = GROUPS.flatMap((g) => {
    const all = [...new Set(run.env.nodes.flatMap(servicesOf(g.roles)))];
    const up = upStep(run, `${g.title}: compose up --wait ${all.join(' ')}`, servicesOf(g.roles), WAITS.services, (n) => servicesOf(g.roles)(n).length > 0);
    if (g.title === 'storage' && all.includes('minio')) return [up, minioStep(run)];
    if (g.title === 'backups' && all.includes('pgbackrest-repo')) return [up, stanzaStep(run)];
    return [up];
  });
  return [{ title: 'Services (exporters, Redis, storage, Supabase, backend, monitoring, backups, log agent)', steps }];
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
      const res = await (await conn(run, node)).run(stanzaSetupCommand(), { timeoutMs: 170_000 });
      return `stanza ready; archiving works${/first full backup taken/.test(res.stdout) ? '; first full backup taken' : ''}`;
    },
  };
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
