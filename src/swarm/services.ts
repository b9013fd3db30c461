import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import type { Role } from '../config/roles.js';
import { SUPABASE_SERVICES } from '../config/supabase-services.js';

/**
 * prod's app tier on Docker Swarm: the stateless services in one stack, spread over the nodes
 * whose roles allow them (a node label per role). The stateful core — etcd, Patroni, HAProxy,
 * Redis, MinIO, monitoring, backups — stays pinned per node under Compose.
 */
import type { Orchestrator } from '../config/roles.js';

/** The stack's name (`docker stack deploy … twincigo-app`) and its overlay network's. */
export const STACK_NAME = 'twincigo-app';
export const OVERLAY_NETWORK = 'twincigo-app';

/** Roles whose services move into the stack; their compose files no longer run on a node. */
export const STACK_ROLES: readonly Role[] = ['supabase', 'backend'];

/** Every service the stack may hold; caddy runs on every edge node (global), the rest as replicas. */
export const STACK_SERVICES = [...SUPABASE_SERVICES, 'backend', 'caddy'] as const;
export type StackService = (typeof STACK_SERVICES)[number];
/** Replicas of a service the inventory does not name: two (one node lost, the API still up), fewer when fewer nodes may run it. */
export const DEFAULT_REPLICAS = 2;
export const replicasOf = (env: EnvironmentConfig, service: string) => env.swarm.replicas[service] ?? Math.min(DEFAULT_REPLICAS, eligibleNodes(env, service).length);

/** The node label a service is placed by: Supabase's on supabase nodes, the backend's on backend nodes; the edge is where Supabase runs. */
export const labelOf = (service: string): 'supabase' | 'backend' | 'edge' => (service === 'backend' ? 'backend' : service === 'caddy' ? 'edge' : 'supabase');

/** Node labels from roles: twincigo.supabase / twincigo.edge (role supabase), twincigo.backend. */
export function nodeLabels(node: NodeConfig): Record<string, string> {
  const on = (r: Role) => (node.roles.includes(r) ? 'true' : 'false');
  return { 'twincigo.node': node.name, 'twincigo.supabase': on('supabase'), 'twincigo.edge': on('supabase'), 'twincigo.backend': on('backend') };
}

export const usesSwarm = (env: Pick<EnvironmentConfig, 'orchestrator'>) => env.orchestrator === 'swarm';

/** The nodes a stack service may run on. */
export const eligibleNodes = (env: EnvironmentConfig, service: string) =>
  env.nodes.filter((n) => n.roles.includes(labelOf(service) === 'backend' ? 'backend' : 'supabase'));

/** Inventory problems of a swarm environment (paths as the inventory spells them). */
export function swarmProblems(at: string, o: { profile: string; orchestrator: Orchestrator; replicas: Record<string, number>; swarmSet: boolean; nodes: Array<{ roles: readonly string[] }> }): string[] {
  const problems: string[] = [];
  if (o.orchestrator !== 'swarm') {
    if (o.swarmSet) problems.push(`${at}.swarm: is for orchestrator: swarm`);
    return problems;
  }
  if (o.profile !== 'prod') problems.push(`${at}.orchestrator: swarm is prod's; dev runs its app tier under Compose (drop orchestrator, or use profile: prod)`);
  if (o.nodes.length < 3) problems.push(`${at}.orchestrator: a swarm of three managers needs three nodes (it has ${o.nodes.length})`);
  for (const [service, n] of Object.entries(o.replicas)) {
    if (!(STACK_SERVICES as readonly string[]).includes(service) || service === 'caddy') {
      problems.push(`${at}.swarm.replicas.${service}: not a stack service (one of ${STACK_SERVICES.filter((s) => s !== 'caddy').join(', ')}; caddy runs on every edge node)`);
      continue;
    }
  }
  return problems;
}
