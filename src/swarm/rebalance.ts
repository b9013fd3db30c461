import type { EnvironmentConfig } from '../config/model.js';
import { TwincigoError } from '../errors.js';
import { notYet, ready, waitUntil } from '../cluster/wait.js';
import { scaleCommand, swarmNodesCommand } from '../remote/swarm.js';
import type { SshConnection } from '../ssh/connection.js';
import { eligibleNodes } from './services.js';
import { onSwarm } from './electing.js';
import { liveServices, runningTasks, stackTasks, type SwarmOpts } from './stack-deploy.js';
import { runningByService, type LiveService, type LiveTask } from './stack-state.js';

/**
 * Swarm never moves a running task: after a node was lost, its replicas run on the others, and
 * stay there when it is back. A service is unbalanced when its running tasks sit on fewer nodes
 * than it could use (its replicas, or the ready nodes that may run it, whichever is fewer).
 */
export function unbalanced(env: EnvironmentConfig, live: Iterable<LiveService>, running: Map<string, string[]>, readyNodes: ReadonlySet<string>): string[] {
  return [...live].filter((s) => {
    if (s.mode === 'global') return false;
    const could = Math.min(s.mode, eligibleNodes(env, s.name).filter((n) => readyNodes.has(n.name)).length);
    return new Set(running.get(s.name) ?? []).size < could;
  }).map((s) => s.name);
}

export async function readyNodes(c: SshConnection, opts: SwarmOpts = {}): Promise<Set<string>> {
  const lines = (await onSwarm(c, swarmNodesCommand(), { timeoutMs: 30_000, ...opts })).stdout.split('\n').filter(Boolean);
  return new Set(lines.map((l) => l.split('\t')).filter(([, status, avail]) => status === 'Ready' && avail === 'Active').map(([host]) => host!));
}

/**
 * A service's tasks as a wait says them: where the running ones run, and what the others are
 * waiting for (Swarm's state and error: "Pending … no suitable node", "Starting", a failed start).
 */
export function tasksSaid(tasks: readonly LiveTask[], service: string): string {
  const mine = tasks.filter((t) => t.service === service);
  const running = mine.filter((t) => /^Running/.test(t.state)).map((t) => t.node);
  const others = mine.filter((t) => !/^Running/.test(t.state)).map((t) => `${t.state.split(' ')[0]}${t.node ? ` on ${t.node}` : ''}${t.error ? ` (${t.error})` : ''}`);
  return [`${running.length} running${running.length ? ` (${running.join(', ')})` : ''}`, ...others].join(', ');
}

/**
 * Spreads unbalanced services again without replacing a running task: one replica more (Swarm
 * places it where the service has fewest), then back to its replicas (Swarm removes one where it
 * has most). A forced update would not do: with two replicas its second new task may land beside
 * the first. `waitForNodesMs`: first wait for every node that may run app
 * tasks to be back in the swarm (after a drill's restore). Returns the services rebalanced.
 */
export async function rebalance(env: EnvironmentConfig, c: SshConnection, opts: { signal?: AbortSignal; log?: (s: string) => void; waitForNodesMs?: number } = {}): Promise<string[]> {
  const app = new Set(env.nodes.filter((n) => n.roles.includes('supabase') || n.roles.includes('backend')).map((n) => n.name));
  if (opts.waitForNodesMs) {
    await waitUntil('every app node back in the swarm', async () => {
      const r = await readyNodes(c, opts);
      const missing = [...app].filter((n) => !r.has(n));
      return missing.length ? notYet(`${missing.join(', ')} not ready in the swarm`) : ready(true);
    }, { timeoutMs: opts.waitForNodesMs, intervalMs: 1000, ...opts });
  }
  const live = await liveServices(c, opts);
  const running = await runningTasks(c, opts);
  const todo = unbalanced(env, live.values(), running, await readyNodes(c, opts));
  if (todo.length === 0) return [];
  opts.log?.(`rebalancing ${todo.join(', ')}`);
  const replicas = (s: string) => live.get(s)!.mode as number;
  // one task more, placed by Swarm where the service has fewest; the scheduler of a manager just
  // through an election may not count the node that came back yet and put it beside the others
  // (lab-prod: all three auth tasks on one node): then one more again
  const extra = new Map(todo.map((s) => [s, 1]));
  let pending = todo;
  for (let round = 1; pending.length > 0; round++) {
    const now = await scaleAndWait(c, pending, (s) => replicas(s) + extra.get(s)!, 0, opts);
    pending = pending.filter((s) => new Set(now.get(s)).size < 2);
    if (pending.length && round === MAX_ROUNDS) throw new TwincigoError(`Swarm placed every new task of ${pending.join(', ')} beside the others (${round} tries): ${pending.map((s) => `${s} on ${now.get(s)!.join(', ')}`).join('; ')}`, undefined, ['`docker node ls` on a manager: is every app node Ready and Active? Then twincigo deploy spreads them again']);
    for (const s of pending) extra.set(s, extra.get(s)! + 1);
    if (pending.length) opts.log?.(`Swarm placed the new task of ${pending.join(', ')} beside the others: one more`);
  }
  // back to the replicas: Swarm removes tasks where the service has most
  await scaleAndWait(c, todo, replicas, 2, opts);
  return todo;
}

/** How many times a spread adds a task before it gives up. */
const MAX_ROUNDS = 3;

/** Scales the services and waits for exactly that many running tasks, on at least `nodes` nodes each (or fewer replicas). */
async function scaleAndWait(c: SshConnection, services: readonly string[], want: (s: string) => number, nodes: number, opts: SwarmOpts): Promise<Map<string, string[]>> {
  for (const s of services) await onSwarm(c, scaleCommand(s, want(s)), { timeoutMs: 60_000, ...opts });
  return waitUntil('the services spread over the nodes', async () => {
    const tasks = await stackTasks(c, opts);
    const now = runningByService(tasks);
    const short = services.filter((s) => (now.get(s) ?? []).length !== want(s) || new Set(now.get(s)).size < Math.min(want(s), nodes));
    return short.length ? notYet(short.map((s) => `${s} ${tasksSaid(tasks, s)}, wants ${want(s)}`).join('; ')) : ready(now);
  }, { timeoutMs: 180_000, intervalMs: 1000, ...opts });
}

/**
 * A drill's lost node, as Swarm sees it: marked down, and every stack service back at its replicas
 * on the other nodes. Seconds after the fault (Swarm's heartbeats), said as a line for the report.
 */
export async function swarmMovedTasks(env: EnvironmentConfig, c: SshConnection, lost: string, opts: { signal?: AbortSignal; log?: (s: string) => void }): Promise<string> {
  const t0 = Date.now();
  await waitUntil(`Swarm to find ${lost} down`, async () => ((await readyNodes(c, opts)).has(lost) ? notYet(`${lost} still ready in the swarm`) : ready(true)), { timeoutMs: 90_000, intervalMs: 500, ...opts });
  const down = Math.round((Date.now() - t0) / 100) / 10;
  await waitUntil(`Swarm to run ${lost}'s tasks elsewhere`, async () => {
    const live = await liveServices(c, opts);
    const running = await runningTasks(c, opts);
    const short = [...live.values()].filter((s) => s.mode !== 'global' && (running.get(s.name) ?? []).filter((n) => n !== lost).length < s.mode);
    return short.length ? notYet(`${short.map((s) => s.name).join(', ')} not yet back at their replicas`) : ready(true);
  }, { timeoutMs: 120_000, intervalMs: 1000, ...opts });
  return `Swarm marked ${lost} down after ${down + 5}s and ran its tasks elsewhere after ${Math.round((Date.now() - t0) / 100) / 10 + 5}s`;
}

