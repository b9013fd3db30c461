import type { EnvValues } from '../config/env-file.js';
import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import type { SshConnection } from '../ssh/connection.js';
import type { SshPool } from '../ssh/pool.js';
import type { NodeBundle } from '../stack/bundle.js';
import type { NodeFacts } from './preflight-probe.js';
import type { Change } from './changes.js';
import type { ExistingCluster } from './preflight.js';

export interface BootstrapOptions {
  /** Install the firewall chain (default); --no-firewall skips it. */
  firewall: boolean;
  /** Send images from the operator's Docker over SSH instead of pulling (air-gapped nodes, the lab). */
  shipImages: boolean;
}

/** What one bootstrap run shares between its steps. */
export interface BootstrapRun {
  env: EnvironmentConfig;
  values: EnvValues;
  bundles: Map<string, NodeBundle>;
  pool: SshPool;
  options: BootstrapOptions;
  /** Preflight's facts per node, with the clock offset against the operator's clock. */
  facts: Map<string, { facts: NodeFacts; skewMs: number | null }>;
  /** Set by preflight: a cluster already runs — members are then restarted one at a time. */
  existing: ExistingCluster;
  /** Nodes that run exactly this bundle already (recorded digest equal, every container running). */
  converged: Set<string>;
  /** What changed on each node (uploads, started containers, firewall); empty lists: a no-op run. */
  changes: Map<string, Change[]>;
  /** Log excerpts of failing containers, printed after the progress. */
  diagnostics: Array<{ node: string; title: string; text: string }>;
  /** docker save | docker load over SSH (injected: it needs the operator's Docker). */
  shipImage: (conn: SshConnection, image: string, signal: AbortSignal) => Promise<void>;
}

export function bundleOf(run: BootstrapRun, node: NodeConfig): NodeBundle {
  const b = run.bundles.get(node.name);
  if (!b) throw new Error(`no rendered bundle for ${node.name}`);
  return b;
}

/** Converged at preflight and nothing rewritten since (a file edited on the node was put back: not converged). */
export function isConverged(run: BootstrapRun, node: NodeConfig): boolean {
  return run.converged.has(node.name) && !changesOf(run, node.name).some((c) => c.kind === 'file');
}

export const changesOf = (run: BootstrapRun, node: string): Change[] => run.changes.get(node) ?? [];

export function noteChange(run: BootstrapRun, node: string, what: Change): void {
  run.changes.set(node, [...(run.changes.get(node) ?? []), what]);
}
