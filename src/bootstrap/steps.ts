import type { NodeConfig } from '../config/model.js';
import type { Role } from '../config/roles.js';
import type { Step, StepContext } from '../engine/types.js';
import { ServiceError, upServices } from '../cluster/services.js';
import { containerName } from '../remote/compose.js';
import { reloadCommand, servicesToReload } from '../stack/reload.js';
import { bundleOf, changesOf, isConverged, noteChange, type BootstrapRun } from './bootstrap-run.js';

/** The pieces bootstrap's steps are made of. */
export type Ctx = StepContext<NodeConfig>;

export const CONVERGED = 'converged: this bundle is applied and every container runs';

/** Health-gate timeouts (seconds). A fresh supabase/postgres initdb and a base backup take the longest. */
export const WAITS = { etcd: 90, leader: 180, replicas: 300, haproxy: 60, services: 240 } as const;

export const conn = (run: BootstrapRun, node: NodeConfig) => run.pool.get(node);
export const files = (run: BootstrapRun, node: NodeConfig) => bundleOf(run, node).composeFiles;
export const has = (role: Role) => (n: NodeConfig) => n.roles.includes(role);
/** Did this run (re)start the service's container on the node? */
const restarted = (run: BootstrapRun, node: NodeConfig, service: string) => changesOf(run, node.name).some((c) => c.kind === 'started' && c.container === containerName(service));
/** In a rolling restart, a member that was not restarted needs no wait (the report checks the whole cluster). */
export const unlessRestarted = (run: BootstrapRun, service: string) => ({ node }: Ctx) => (restarted(run, node, service) ? false : `${service} not restarted`);

/** `compose up` of services on the node; a failure keeps the containers' last log lines for the report. */
export function upStep(run: BootstrapRun, title: string, services: (n: NodeConfig) => string[], waitSec?: number, when?: (n: NodeConfig) => boolean): Step<NodeConfig> {
  return {
    title,
    ...(when ? { when } : {}),
    timeoutMs: ((waitSec ?? 0) + 240) * 1000,
    skip: ({ node }: Ctx) => (isConverged(run, node) ? CONVERGED : false),
    run: async ({ node, signal }: Ctx) => {
      const c = await conn(run, node);
      try {
        const { changed } = await upServices(c, run.env.baseDir, files(run, node), services(node), { ...(waitSec ? { waitSec } : {}), signal });
        for (const name of changed) noteChange(run, node.name, { kind: 'started', container: name });
        // a changed config file of a running, not recreated service: compose cannot see it — reload
        const base = `${run.env.baseDir}/`;
        const uploaded = changesOf(run, node.name).flatMap((c) => (c.kind === 'file' && c.action === 'uploaded' && c.path.startsWith(base) ? [c.path.slice(base.length)] : []));
        const reloads = servicesToReload(uploaded, services(node)).filter((r) => !changed.includes(containerName(r.service)));
        for (const r of reloads) {
          await c.run(reloadCommand(r), { timeoutMs: 120_000 });
          noteChange(run, node.name, { kind: r.how === 'restart' ? 'restarted' : 'reloaded', service: r.service, file: r.file });
        }
        const notes = [...(changed.length > 0 ? [`started ${changed.join(', ')}`] : []), ...reloads.map((r) => `${r.how === 'restart' ? 'restarted' : 'reloaded'} ${r.service}`)];
        return notes.length > 0 ? notes.join('; ') : 'already running, unchanged';
      } catch (err) {
        if (err instanceof ServiceError) run.diagnostics.push({ node: node.name, title: `last log lines of ${services(node).join(', ')}`, text: err.logs });
        throw err;
      }
    },
  };
}
