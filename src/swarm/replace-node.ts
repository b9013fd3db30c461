import { TwincigoError } from '../errors.js';
import { demoteCommand, drainNodeCommand, nodeRunningTasksCommand, removeSwarmNodeCommand, swarmLeaveCommand, swarmNodeDetailsCommand } from '../remote/swarm.js';
import { notYet, ready, waitUntil } from '../cluster/wait.js';
import type { SshConnection } from '../ssh/connection.js';
import { onSwarm } from './electing.js';

export interface SwarmNode {
  id: string;
  hostname: string;
  /** The inventory name bootstrap labelled it with (twincigo.node); empty on a node labelled before the label existed. */
  name: string;
  status: string;
  /** reachable / unreachable for a manager, '' for a worker. */
  reachability: string;
}

export function parseSwarmNodes(text: string): SwarmNode[] {
  return text.split('\n').filter(Boolean).map((l) => {
    const [id = '', hostname = '', name = '', status = '', reachability = ''] = l.split('\t');
    return { id, hostname, name: name === '<no value>' ? '' : name, status, reachability };
  });
}

/** The swarm's entries of a node that is gone: its name (label, else hostname), not up, not the replacement's own id. */
export function deadEntries(nodes: readonly SwarmNode[], name: string, keepId: string): SwarmNode[] {
  return nodes.filter((n) => n.id !== keepId && (n.name === name || (!n.name && n.hostname === name)) && n.status !== 'ready');
}

/**
 * Swarm's side of a node replacement, on a surviving manager: the dead node's entry demoted and
 * removed, so that the replacement joins a swarm of managers that keeps its quorum. A dead node's
 * entry still marked ready (Swarm has not noticed yet) is refused: the node must be down.
 */
export async function removeDeadNode(manager: SshConnection, name: string, keepId: string, log: (s: string) => void): Promise<string> {
  const nodes = parseSwarmNodes((await onSwarm(manager, swarmNodeDetailsCommand(), { timeoutMs: 30_000, log })).stdout);
  const alive = nodes.filter((n) => n.id !== keepId && (n.name === name || (!n.name && n.hostname === name)) && n.status === 'ready');
  if (alive.length) {
    throw new TwincigoError(`swarm: ${name} (${alive.map((n) => n.id.slice(0, 12)).join(', ')}) is still ready in the swarm`, undefined, [
      `the node being replaced must be down: stop its machine (Swarm marks it down within ~15 s), then run node replace again`,
    ]);
  }
  const dead = deadEntries(nodes, name, keepId);
  for (const n of dead) {
    await onSwarm(manager, removeSwarmNodeCommand(n.id, n.reachability !== ''), { timeoutMs: 60_000, log });
    log(`swarm: removed ${name}'s old entry ${n.id.slice(0, 12)}`);
  }
  return dead.length ? `removed ${dead.length} dead entr${dead.length === 1 ? 'y' : 'ies'} of ${name}` : `no entry of ${name} left`;
}

/**
 * A live node out of the swarm for good (node remove): drained — Swarm moves its tasks to the
 * other nodes, waited for —, demoted on a manager, left on the node itself, its entry removed.
 * `node` is null when the node does not answer: then as a dead node's entry.
 */
export async function retireNode(manager: SshConnection, node: SshConnection | null, name: string, opts: { signal?: AbortSignal; log: (s: string) => void }): Promise<string> {
  const entries = parseSwarmNodes((await onSwarm(manager, swarmNodeDetailsCommand(), { timeoutMs: 30_000, ...opts })).stdout).filter((n) => n.name === name || (!n.name && n.hostname === name));
  if (entries.length === 0) return `${name} is not in the swarm`;
  for (const e of entries.filter((x) => x.status === 'ready')) {
    await onSwarm(manager, drainNodeCommand(e.id), { timeoutMs: 30_000, ...opts });
    await waitUntil(`Swarm to move ${name}'s tasks`, async () => {
      const left = (await onSwarm(manager, nodeRunningTasksCommand(e.id), { timeoutMs: 30_000, ...opts })).stdout.split('\n').filter(Boolean).length;
      return left === 0 ? ready(0) : notYet(`${left} task(s) still on ${name}`);
    }, { timeoutMs: 180_000, intervalMs: 1000, ...opts });
    opts.log(`swarm: ${name} drained`);
  }
  // demoted while it is still up: the managers' raft shrinks cleanly; then it leaves, then its entry goes
  for (const e of entries.filter((x) => x.reachability !== '')) await onSwarm(manager, demoteCommand(e.id), { timeoutMs: 60_000, ...opts });
  if (node) await node.exec(swarmLeaveCommand(), { timeoutMs: 60_000 });
  for (const e of entries) await onSwarm(manager, removeSwarmNodeCommand(e.id, false), { timeoutMs: 60_000, ...opts });
  return `${name} drained, demoted and removed`;
}
