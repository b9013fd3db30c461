import type { NodeConfig } from '../../config/model.js';
import type { Phase } from '../../engine/types.js';
import { formSwarm } from '../../swarm/form.js';
import { usesSwarm } from '../../swarm/services.js';
import { deployStack, stackNode } from '../../swarm/stack-deploy.js';
import { rebalance } from '../../swarm/rebalance.js';
import { STACK_FILE } from '../../swarm/stack-file.js';
import { bundleOf, type BootstrapRun } from '../bootstrap-run.js';
import { conn } from '../steps.js';

/** 4b. prod: the swarm of the three nodes (all managers), their labels and the stack's encrypted overlay — before any compose up: a node's compose files name the overlay (Redis and MinIO join it). */
export function swarmPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  if (!usesSwarm(run.env)) return [];
  return [{
    title: 'Swarm: three managers, node labels, the encrypted overlay',
    then: [{
      title: 'form the swarm (join tokens on stdin, never shown)',
      timeoutMs: 300_000,
      run: async ({ log }) => (await formSwarm(run.env, (n) => conn(run, n), log)).join('; '),
    }],
  }];
}

/** 9b. prod: the app tier as one stack (docker stack deploy), every service at its replicas. */
export function stackPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  if (!usesSwarm(run.env)) return [];
  const node = stackNode(run.env, run.env.nodes);
  if (!node) return [];
  return [{
    title: 'App tier: the Swarm stack',
    then: [{
      title: `docker stack deploy from ${node.name}, every service at its replicas`,
      timeoutMs: 900_000,
      run: async ({ log, signal }) => {
        const text = bundleOf(run, node).files.find((f) => f.path === STACK_FILE)!.content;
        const c = await conn(run, node);
        const plan = await deployStack(run.env, c, text, { log, signal });
        const spread = await rebalance(run.env, c, { log, signal });
        const did = [...plan.changed, ...plan.removed.map((r) => `-${r}`), ...spread.map((r) => `~${r}`)];
        return did.length ? `deployed: ${did.join(', ')}` : 'unchanged: every service runs this spec';
      },
    }],
  }];
}
