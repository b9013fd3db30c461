import type { NodeConfig } from '../config/model.js';
import type { OnceStep, Phase } from '../engine/types.js';
import { root } from '../remote/shell.js';
import { usesSwarm } from '../swarm/services.js';
import { deployStack, isStackUpdateFailed, liveServices, runningTasks, stackNode, stackPlan } from '../swarm/stack-deploy.js';
import { STACK_FILE } from '../swarm/stack-file.js';
import { readyNodes, rebalance, unbalanced } from '../swarm/rebalance.js';
import { note, targetId, type DeployRun } from './deploy-run.js';
import { releaseDir } from './release.js';

/**
 * Swarm (prod): the app tier is a stack, not a node's compose project. Prepare compares the
 * rendered stack file (a rollback: its release's) with the spec label of every service Swarm runs;
 * apply deploys it once from one node — Swarm updates only the services whose spec changed, one
 * task at a time, start-first, and rolls back one that fails.
 */
export function stackPrepareStep(run: DeployRun): OnceStep | null {
  const node = usesSwarm(run.env) ? stackNode(run.env, run.nodes) : undefined;
  if (!node) return null;
  return {
    title: `Swarm stack: compare with what Swarm runs (from ${node.name})`,
    timeoutMs: 120_000,
    run: async ({ log, signal }) => {
      const conn = await run.pool.get(node);
      const bundled = run.bundles.get(node.name)?.files.find((f) => f.path === STACK_FILE)?.content;
      const text = bundled ?? (await conn.run(root('cat', `${releaseDir(run.env.baseDir, targetId(run, node.name))}/${STACK_FILE}`), { timeoutMs: 30_000 })).stdout;
      const live = await liveServices(conn, { log, signal });
      const plan = stackPlan(text, live);
      const running = await runningTasks(conn, { log, signal });
      const spread = unbalanced(run.env, live.values(), running, await readyNodes(conn, { log, signal })).filter((s) => !plan.changed.includes(s));
      run.stack = { node: node.name, text, plan, rebalance: spread };
      const parts = [...(plan.changed.length || plan.removed.length ? [`to update: ${[...plan.changed, ...plan.removed.map((r) => `-${r}`)].join(', ')}`] : ['every service runs this spec']), ...(spread.length ? [`to spread over the nodes again: ${spread.join(', ')}`] : [])];
      return parts.join('; ');
    },
  };
}

export const stackChanges = (run: DeployRun) => (run.stack ? run.stack.plan.changed.length + run.stack.plan.removed.length + run.stack.rebalance.length : 0);

/** After the nodes have the release: docker stack deploy, then every changed service's rolling update awaited. */
export function stackApplyPhase(run: DeployRun): Phase<NodeConfig>[] {
  const s = run.stack;
  if (!s || stackChanges(run) === 0) return [];
  const node = run.env.nodes.find((n) => n.name === s.node)!;
  return [{
    title: 'Swarm stack',
    then: [{
      title: `docker stack deploy: ${[...s.plan.changed, ...s.plan.removed.map((r) => `-${r}`), ...s.rebalance.map((r) => `~${r}`)].join(', ')} (rolling, start-first; Swarm rolls back a failure)`,
      timeoutMs: 900_000,
      run: async ({ log, signal }) => {
        try {
          const conn = await run.pool.get(node);
          const plan = await deployStack(run.env, conn, s.text, { log, signal });
          for (const svc of plan.changed) note(run, node.name, plan.rolled?.includes(svc) ? { kind: 'updated', service: svc } : { kind: 'respecified', service: svc });
          for (const svc of plan.removed) note(run, node.name, { kind: 'removed', service: svc });
          const spread = await rebalance(run.env, conn, { log, signal });
          for (const svc of spread) note(run, node.name, { kind: 'spread', service: svc });
          return `updated ${plan.changed.join(', ') || 'nothing'}${plan.removed.length ? `; removed ${plan.removed.join(', ')}` : ''}${spread.length ? `; spread ${spread.join(', ')} over the nodes again` : ''}`;
        } catch (err) {
          if (isStackUpdateFailed(err)) run.stackRolledBack = true;
          throw err;
        }
      },
    }],
  }];
}
