import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { TwincigoError } from '../errors.js';
import { ensureOverlayCommand, labelNodeCommand, managerTokenCommand, parseSwarmInfo, swarmInfoCommand, swarmInitCommand, swarmJoinCommand, type SwarmInfo } from '../remote/swarm.js';
import type { SshConnection } from '../ssh/connection.js';
import { onSwarm } from './electing.js';
import { nodeLabels } from './services.js';

type Connect = (node: NodeConfig) => Promise<SshConnection>;

export const readSwarmInfo = async (c: SshConnection): Promise<SwarmInfo> => parseSwarmInfo((await c.run(swarmInfoCommand(), { timeoutMs: 30_000 })).stdout);

/**
 * The swarm of an environment's nodes, every one a manager (three keep quorum through one loss):
 * initialised on the initial leader's node when no node is in one, the others joined with the
 * manager token handed over on stdin; node labels from roles; the stack's encrypted overlay.
 * Idempotent; a node in another swarm is refused with the fix. Returns what it did.
 */
export async function formSwarm(env: EnvironmentConfig, connect: Connect, log: (s: string) => void): Promise<string[]> {
  const done: string[] = [];
  const infos = new Map<string, SwarmInfo>();
  await Promise.all(env.nodes.map(async (n) => infos.set(n.name, await readSwarmInfo(await connect(n)))));
  const active = env.nodes.filter((n) => infos.get(n.name)!.state === 'active');
  const clusters = new Set(active.map((n) => infos.get(n.name)!.clusterId));
  const bad = env.nodes.filter((n) => !['active', 'inactive'].includes(infos.get(n.name)!.state));
  if (bad.length) throw new TwincigoError(`swarm: ${bad.map((n) => `${n.name} is ${infos.get(n.name)!.state}`).join(', ')}`, undefined, ['see `docker info` on the node; `docker swarm leave --force` there resets it']);
  if (clusters.size > 1) {
    const list = active.map((n) => `${n.name} (${infos.get(n.name)!.clusterId.slice(0, 12)})`).join(', ');
    throw new TwincigoError(`swarm: the nodes are in different swarms: ${list}`, undefined, ['run `docker swarm leave --force` on the nodes that are not in the swarm to keep, then bootstrap again']);
  }
  let manager = active.find((n) => infos.get(n.name)!.manager);
  if (active.length > 0 && !manager) throw new TwincigoError(`swarm: ${active.map((n) => n.name).join(', ')} are in a swarm as workers only`, undefined, ['promote one (`docker node promote`) or leave the swarm on them, then bootstrap again']);
  if (!manager) {
    manager = env.nodes.find((n) => n.name === env.initialLeader) ?? env.nodes[0]!;
    const c = await connect(manager);
    await c.run(swarmInitCommand(manager.privateAddress), { timeoutMs: 60_000 });
    infos.set(manager.name, await readSwarmInfo(c));
    done.push(`initialised on ${manager.name}`);
    log(`swarm initialised on ${manager.name}`);
  }
  const mc = await connect(manager);
  const joining = env.nodes.filter((n) => infos.get(n.name)!.state === 'inactive');
  if (joining.length) {
    const token = (await onSwarm(mc, managerTokenCommand(), { timeoutMs: 30_000, log })).stdout.trim();
    for (const n of joining) {
      const c = await connect(n);
      await c.run(swarmJoinCommand(n.privateAddress, manager.privateAddress), { timeoutMs: 90_000, stdin: `${token}\n` });
      infos.set(n.name, await readSwarmInfo(c));
      done.push(`${n.name} joined as a manager`);
      log(`${n.name} joined as a manager`);
    }
  }
  const workers = env.nodes.filter((n) => !infos.get(n.name)!.manager);
  if (workers.length) throw new TwincigoError(`swarm: ${workers.map((n) => n.name).join(', ')} joined but are not managers`, undefined, ['`docker node promote <node>` on a manager']);
  for (const n of env.nodes) await onSwarm(mc, labelNodeCommand(infos.get(n.name)!.nodeId, nodeLabels(n)), { timeoutMs: 30_000, log });
  await onSwarm(mc, ensureOverlayCommand(env.swarm.encrypted), { timeoutMs: 60_000, log });
  if (done.length === 0) done.push(`${env.nodes.length} managers already`);
  return done;
}
