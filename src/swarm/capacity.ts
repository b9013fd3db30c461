import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { roleFiles } from '../stack/compose-files.js';
import { scaleLimits, serviceLimits, sizeFactors, type ServiceLimits } from '../stack/resources.js';
import { STACK_ROLES, eligibleNodes, labelOf, replicasOf } from './services.js';

/**
 * The stack's limits a node must have room for, the cluster whole: its share of every service it
 * may run — replicas spread over the nodes that may run them (Swarm's spread), the edge on every
 * edge node. A node lost leaves its tasks to the others, beyond their sum of limits for that time
 * (CPU is shared; a limit is a ceiling, not a reservation).
 */
export function stackLimitsOn(env: EnvironmentConfig, node: NodeConfig): ServiceLimits[] {
  const limits = stackLimits(env);
  const on = (s: string) => node.roles.includes(labelOf(s) === 'backend' ? 'backend' : 'supabase');
  return limits.filter((l) => on(l.service)).map((l) => {
    // the edge: one per edge node; a replicated service: its share of the replicas, rounded up
    const tasks = l.service === 'caddy' ? 1 : Math.ceil(replicasOf(env, l.service) / eligibleNodes(env, l.service).length);
    const times = (x: number | null) => (x === null ? null : x * tasks);
    return { ...l, service: `${l.service} (stack${tasks > 1 ? ` ×${tasks}` : ''})`, cpus: times(l.cpus), memoryMiB: times(l.memoryMiB) };
  });
}

/** Each stack service's limits per task: the profile's, scaled to the environment's node size. */
export function stackLimits(env: EnvironmentConfig): ServiceLimits[] {
  const all = serviceLimits(STACK_ROLES.flatMap((r) => roleFiles(r, env)));
  const f = sizeFactors(env);
  return f.cpus !== 1 || f.memory !== 1 ? scaleLimits(all, f) : all;
}
