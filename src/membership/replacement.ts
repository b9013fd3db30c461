import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { UsageError } from '../errors.js';

/** One node replaced: its name, where the inventory had it, and where its replacement is. */
export interface Replacement {
  name: string;
  /** The dead machine's cluster address (the inventory's before this run). */
  oldAddress: string;
  /** The replacement's cluster address (the same when the machine kept its address). */
  address: string;
  /** Where the replacement's database copy comes from: Patroni's first method that works (backup, else the leader), or the leader only. */
  cloneFrom: 'backup' | 'leader';
  /** replace: a dead node's new machine; add: a node the cluster has not had (the inventory lists it already). */
  kind: 'replace' | 'add';
}

/**
 * The environment with one node at a new address: its host, and its private address when that was
 * the host (the inventory did not set one) or when the new one is given. Everything else as it was.
 */
export function withNodeAddress(env: EnvironmentConfig, name: string, host: string | undefined, privateAddress: string | undefined): EnvironmentConfig {
  const node = env.nodes.find((n) => n.name === name);
  if (!node) throw new UsageError(`no node ${name} in ${env.name}`, [`nodes: ${env.nodes.map((n) => n.name).join(', ')}`]);
  if (host === undefined && privateAddress === undefined) return env;
  const newHost = host ?? node.host;
  const newPrivate = privateAddress ?? (node.privateAddress === node.host ? newHost : node.privateAddress);
  const clash = env.nodes.find((n) => n.name !== name && (n.host === newHost || n.privateAddress === newPrivate));
  if (clash) throw new UsageError(`${clash.name} already has the address ${clash.host === newHost ? newHost : newPrivate}`, ['give the replacement its own address']);
  const moved: NodeConfig = { ...node, host: newHost, privateAddress: newPrivate };
  return { ...env, nodes: env.nodes.map((n) => (n.name === name ? moved : n)) };
}

export const survivorsOf = (env: EnvironmentConfig, r: Pick<Replacement, 'name'>) => env.nodes.filter((n) => n.name !== r.name);
export const replacedNode = (env: EnvironmentConfig, r: Pick<Replacement, 'name'>) => env.nodes.find((n) => n.name === r.name)!;
