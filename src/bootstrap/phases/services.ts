import type { NodeConfig } from '../../config/model.js';
import type { Role } from '../../config/roles.js';
import type { Phase } from '../../engine/types.js';
import { operator } from '../../cluster/lock.js';
import { upload } from '../../ssh/upload.js';
import { appliedFile, bundleDigest } from '../../stack/bundle.js';
import { servicesFor } from '../../stack/compose-files.js';
import { bundleOf, isConverged, type BootstrapRun } from '../bootstrap-run.js';
import { WAITS, conn, upStep, type Ctx } from '../steps.js';

/** In dependency order on each node (Redis before the backend); nodes in parallel. */
const GROUPS: Array<{ title: string; roles: Role[] }> = [
  { title: 'Redis', roles: ['redis'] },
  { title: 'Supabase', roles: ['supabase', 'storage'] },
  { title: 'backend', roles: ['backend'] },
  { title: 'monitoring', roles: ['monitoring'] },
];

/** 9. The rest of the stack, health-gated (`compose up --wait`). */
export function servicesPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  const servicesOf = (roles: Role[]) => (n: NodeConfig) => servicesFor(roles.filter((r) => n.roles.includes(r)), run.env.profile);
  const steps = GROUPS.map((g) => {
    const all = [...new Set(run.env.nodes.flatMap(servicesOf(g.roles)))];
    return upStep(run, `${g.title}: compose up --wait ${all.join(' ')}`, servicesOf(g.roles), WAITS.services, (n) => servicesOf(g.roles)(n).length > 0);
  });
  return [{ title: 'Services (Redis, Supabase, backend, monitoring)', steps }];
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
