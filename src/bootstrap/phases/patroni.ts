import type { NodeConfig } from '../../config/model.js';
import type { Phase, Step } from '../../engine/types.js';
import { patroniLeader, patroniStreaming } from '../../cluster/patroni.js';
import { waitUntil } from '../../cluster/wait.js';
import { dropCatchUpRestoreCommand } from '../../remote/pgbackrest.js';
import { CATCH_UP_MARK } from '../../stack/clone-config.js';
import { noteChange, type BootstrapRun } from '../bootstrap-run.js';
import { WAITS, conn, has, unlessRestarted, upStep, type Ctx } from '../steps.js';

/**
 * A replica Patroni made from the latest backup (the clone script) replays from the archive until
 * it streams; once it does, that restore_command is dropped (a promotion would ask the repository
 * for timeline history first — a dead one costs a failover tens of seconds). True when dropped.
 */
export async function endCatchUp(run: BootstrapRun, node: NodeConfig): Promise<boolean> {
  const res = await (await conn(run, node)).run(dropCatchUpRestoreCommand(CATCH_UP_MARK), { timeoutMs: 45_000 });
  if (!res.stdout.includes('dropped')) return false;
  noteChange(run, node.name, { kind: 'reloaded', service: 'patroni', file: 'postgresql.base.conf' });
  return true;
}

/** The node Patroni is first started on when there is no cluster yet. */
export const firstLeader = (run: BootstrapRun): NodeConfig => run.env.nodes.find((n) => n.name === run.env.initialLeader) ?? run.env.nodes.find(has('patroni'))!;

/**
 * 6. Patroni: a running cluster's members one at a time, replicas first and the leader last, each
 * restart waited for until every replica streams again; a new cluster: the first leader, then the replicas.
 */
export function patroniPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  const patroniNodes = run.env.nodes.filter(has('patroni'));
  const up = upStep(run, 'compose up patroni', () => ['patroni']);
  const streaming: Step<NodeConfig> = {
    title: `leader + ${patroniNodes.length - 1} streaming replicas`,
    timeoutMs: (WAITS.replicas + 20) * 1000,
    run: async ({ node, signal, log }: Ctx) => {
      const c = await conn(run, node);
      const ms = await waitUntil('Patroni replicas', () => patroniStreaming(c, patroniNodes.map((n) => n.name)), { timeoutMs: WAITS.replicas * 1000, intervalMs: 500, signal, log });
      const ended = await endCatchUp(run, node);
      return `${ms.map((m) => `${m.name} ${m.role}`).join(', ')}${ended ? `; ${node.name}'s catch-up restore_command dropped` : ''}`;
    },
  };
  const current = run.existing.leader ? patroniNodes.find((n) => n.name === run.existing.leader) : undefined;
  if (current) {
    const order = [...patroniNodes.filter((n) => n !== current), current];
    return [{ title: `Patroni (one member at a time, leader ${current.name} last)`, nodes: order, serial: true, steps: [up, { ...streaming, skip: unlessRestarted(run, 'patroni') }] }];
  }
  const leaderNode = firstLeader(run);
  const elected: Step<NodeConfig> = {
    title: 'a leader is elected',
    timeoutMs: (WAITS.leader + 20) * 1000,
    run: async ({ node, signal, log }: Ctx) => {
      const c = await conn(run, node);
      return `leader: ${await waitUntil('Patroni leader', () => patroniLeader(c), { timeoutMs: WAITS.leader * 1000, intervalMs: 500, signal, log })}`;
    },
  };
  return [
    { title: `Patroni: first leader (${leaderNode.name})`, nodes: [leaderNode], steps: [up, elected] },
    {
      title: 'Patroni: replicas',
      nodes: patroniNodes.filter((n) => n !== leaderNode),
      steps: [up],
      then: [{ title: streaming.title, timeoutMs: streaming.timeoutMs!, run: (ctx) => streaming.run({ ...ctx, node: leaderNode } as Ctx) }],
    },
  ];
}
