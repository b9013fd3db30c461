import { UsageError } from '../errors.js';
import type { EnvironmentConfig, NodeConfig } from './model.js';

function toRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * Applies a `--nodes a,b,ash-*` filter. Every entry must match at least one node (name or host):
 * a typo is an error, never a silently smaller run.
 */
export function selectNodes(env: EnvironmentConfig, filter: string | undefined): NodeConfig[] {
  if (filter === undefined) return env.nodes;
  const entries = filter.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (entries.length === 0) throw new UsageError('--nodes is empty', ['pass node names, e.g. --nodes ubuntu-8gb-ash-1']);
  const chosen = new Set<NodeConfig>();
  const unmatched: string[] = [];
  for (const entry of entries) {
    const re = toRegExp(entry);
    const hits = env.nodes.filter((n) => re.test(n.name) || re.test(n.host));
    if (hits.length === 0) unmatched.push(entry);
    for (const h of hits) chosen.add(h);
  }
  if (unmatched.length > 0) {
    throw new UsageError(`--nodes: ${unmatched.map((u) => `"${u}"`).join(', ')} matches no node of environment ${env.name}`, [
      `nodes: ${env.nodes.map((n) => n.name).join(', ')}`,
    ]);
  }
  return env.nodes.filter((n) => chosen.has(n));
}
