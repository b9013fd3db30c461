import type { EnvValues } from '../config/env-file.js';
import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import type { TwincigoError } from '../errors.js';
import type { SshPool } from '../ssh/pool.js';
import type { NodeBundle } from '../stack/bundle.js';
import type { NodeChanges } from './changes.js';
import type { Dcs } from './patroni-dcs.js';
import type { ReleaseMeta } from './release.js';
import type { StackPlan } from '../swarm/stack-deploy.js';

/** What one deploy (or rollback) shares between its steps. */
export interface DeployRun {
  env: EnvironmentConfig;
  /** The nodes in scope (--nodes / --roles). */
  nodes: NodeConfig[];
  pool: SshPool;
  values: EnvValues;
  meta: ReleaseMeta;
  /** A rollback may send each node to its own previous release; everything else uses meta.id. */
  targets: Map<string, string>;
  /** Release id for nodes that had none: their live files before this deploy. */
  snapshotId: string;
  /** What each node is given (a deploy: the rendered bundle; a rollback: null — the release is on the node). */
  bundles: Map<string, NodeBundle>;
  changes: Map<string, NodeChanges>;
  /** Nodes the release was uploaded to (a deploy uploads where files differ, and before activation). */
  staged: Set<string>;
  /** The compose files (-f, relative to the base dir) of each node. */
  composeFiles: Map<string, string[]>;
  /** Patroni's cluster-wide config: what it is, and what this deploy sends. */
  dcs: { current: Dcs; patch: Dcs; restartParameters: string[] } | null;
  leader: string | null;
  /** Members that flag a pending restart before this run changed anything (an earlier run stopped halfway). */
  pendingRestart: string[];
  /** What happened on each node (the report, the audit line). */
  done: Map<string, Done[]>;
  /** Swarm: the stack file deploy runs from one node, and what differs from what Swarm runs. */
  stack?: { node: string; text: string; plan: StackPlan; rebalance: string[] };
  /** Swarm rolled a stack service's failed update back. */
  stackRolledBack?: boolean;
  /** Set when a node was rolled back after a failure. */
  rolledBack?: { node: string; to: string; error: string };
  failure?: TwincigoError;
}

/** What a deploy did on a node, as data (the report prints describeDone; the restart count reads the kind). */
export type Done =
  | { kind: 'patroni-config'; change: string }
  | { kind: 'release'; id: string; files: number }
  | { kind: 'reloaded' | 'restarted' | 'recreated' | 'removed' | 'updated' | 'respecified' | 'spread'; service: string }
  | { kind: 'switchover'; to: string }
  | { kind: 'rolled-back'; to: string };

export function describeDone(d: Done): string {
  switch (d.kind) {
    case 'updated':
      return `stack service ${d.service} updated (rolling)`;
    case 'spread':
      return `stack service ${d.service} spread over the nodes again (no task replaced)`;
    case 'respecified':
      return `stack service ${d.service}: spec changed, no task replaced`;
    case 'patroni-config':
      return `Patroni config: ${d.change}`;
    case 'release':
      return `release ${d.id} (${d.files} files)`;
    case 'switchover':
      return `switchover → ${d.to}`;
    case 'rolled-back':
      return `rolled back to ${d.to}`;
    default:
      return `${d.kind} ${d.service}`;
  }
}

/** A container restarted, recreated or reloaded, or the leader moved: what "restarts" counts. */
export const isRestart = (d: Done): boolean => d.kind === 'reloaded' || d.kind === 'restarted' || d.kind === 'recreated' || d.kind === 'updated' || d.kind === 'switchover';

export function note(run: DeployRun, node: string, what: Done): void {
  run.done.set(node, [...(run.done.get(node) ?? []), what]);
}

export const targetId = (run: DeployRun, node: string) => run.targets.get(node) ?? run.meta.id;

export const nodeNamed = (run: DeployRun, name: string) => run.env.nodes.find((n) => n.name === name)!;
