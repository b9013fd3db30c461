import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import type { Phase } from '../engine/types.js';
import { TwincigoError } from '../errors.js';
import { etcdQuorum } from '../cluster/health.js';
import { isLeader, patroniMembers, requestSwitchover } from '../cluster/patroni.js';
import { notYet, ready, waitUntil } from '../cluster/wait.js';
import { compose } from '../remote/compose.js';
import { etcdDeleteCommand, etcdMemberListCommand, etcdMemberRemoveCommand } from '../remote/etcd.js';
import { stopPatroniCommand } from '../remote/patroni.js';
import type { SshConnection } from '../ssh/connection.js';
import type { NodeBundle } from '../stack/bundle.js';
import { patroniScope } from '../stack/patroni-config.js';
import { retireNode } from '../swarm/replace-node.js';
import { usesSwarm } from '../swarm/services.js';
import type { BootstrapRun } from '../bootstrap/bootstrap-run.js';
import { WAITS, conn, has } from '../bootstrap/steps.js';
import { parseMemberList, peerUrl } from './etcd-members.js';

/** What node remove takes away: the node (as the inventory had it) and its last bundle (its compose files, to stop them). */
export interface Removal {
  node: NodeConfig;
  bundle: NodeBundle;
}

/** Why the cluster cannot lose this node (empty: it can): three nodes at least, an odd etcd of three or more, every role kept somewhere. */
export function removalProblems(env: EnvironmentConfig, name: string): string[] {
  const node = env.nodes.find((n) => n.name === name);
  if (!node) return [`no node ${name} in ${env.name}`];
  const rest = env.nodes.filter((n) => n !== node);
  const out: string[] = [];
  if (rest.length < 3) out.push(`${env.name} would have ${rest.length} nodes: node remove keeps at least three`);
  const etcd = rest.filter(has('etcd')).length;
  if (node.roles.includes('etcd') && (etcd < 3 || etcd % 2 === 0)) out.push(`etcd would have ${etcd} members: keep an odd number, at least three (add a node with the etcd role first, or remove one that has none)`);
  const orphaned = node.roles.filter((r) => !rest.some((n) => n.roles.includes(r)));
  if (orphaned.length) out.push(`${name} is the only node with role${orphaned.length > 1 ? 's' : ''} ${orphaned.join(', ')}: give ${orphaned.length > 1 ? 'them' : 'it'} to another node first (inventory + deploy)`);
  return out;
}

const tryConn = async (run: BootstrapRun, node: NodeConfig): Promise<SshConnection | null> => {
  try {
    return await conn(run, node);
  } catch {
    return null;
  }
};

/**
 * The node out of every membership while the others keep running: the leader handed over when it
 * is the node's (a switchover, not a failover), its Patroni stopped (the key released, the
 * leader's slot for it dropped), its etcd member removed with the quorum of the others checked, its
 * Swarm node drained and removed. A node that does not answer is taken out all the same.
 * `run.env` is the environment without the node.
 */
export function retirePhase(run: BootstrapRun, x: Removal): Phase<NodeConfig>[] {
  const rest = run.env.nodes;
  const name = x.node.name;
  const etcdRest = rest.filter(has('etcd'));
  return [{
    title: `Membership: ${name} out`,
    then: [
      {
        title: `the leader on another node (a switchover when ${name} holds it)`,
        timeoutMs: 120_000,
        run: async ({ signal, log }) => {
          const c = await tryConn(run, x.node);
          const here = c ? (await patroniMembers(c).catch(() => [])).find(isLeader) : undefined;
          if (!c || here?.name !== name) return `${name} does not hold the leader`;
          await requestSwitchover(c, name, undefined, 60_000);
          const to = await waitUntil('the leader on another node', async () => {
            const l = (await patroniMembers(await conn(run, rest.find(has('patroni'))!)).catch(() => [])).find(isLeader);
            return l && l.name !== name ? ready(l.name) : notYet(`leader ${l?.name ?? 'none'}`);
          }, { timeoutMs: 90_000, intervalMs: 500, signal, log });
          return `switched over to ${to}`;
        },
      },
      {
        title: `Patroni on ${name} stopped, its member key gone`,
        timeoutMs: 120_000,
        run: async () => {
          const c = await tryConn(run, x.node);
          if (c) await c.exec(stopPatroniCommand(), { timeoutMs: 90_000 });
          const listed = (await patroniMembers(await conn(run, rest.find(has('patroni'))!))).some((m) => m.name === name);
          if (listed) await (await conn(run, etcdRest[0]!)).run(etcdDeleteCommand(`/service/${patroniScope(run.env)}/members/${name}`), { timeoutMs: 20_000 });
          return `${c ? 'stopped' : 'not reachable'}${listed ? '; stale member key deleted' : ''}`;
        },
      },
      {
        title: `etcd: ${name}'s member removed (the others' quorum checked)`,
        timeoutMs: (WAITS.etcd + 60) * 1000,
        run: async ({ signal, log }) => {
          const c = await conn(run, etcdRest[0]!);
          const members = parseMemberList((await c.run(etcdMemberListCommand(), { timeoutMs: 20_000 })).stdout);
          const mine = members.filter((m) => m.name === name || m.peerUrls.includes(peerUrl(x.node.privateAddress)));
          const check = await etcdQuorum(c, etcdRest);
          if (!check.ready) throw new TwincigoError(`etcd: ${check.why}`, undefined, ['the other members must be healthy before one is removed']);
          for (const m of mine) await c.run(etcdMemberRemoveCommand(m.id), { timeoutMs: 30_000 });
          await waitUntil('etcd quorum of the others', () => etcdQuorum(c, etcdRest), { timeoutMs: WAITS.etcd * 1000, intervalMs: 500, signal, log });
          return mine.length ? `removed ${mine.map((m) => m.id).join(', ')}` : `${name} was not a member`;
        },
      },
      ...(usesSwarm(run.env)
        ? [{
            title: `Swarm: ${name} drained, demoted and removed`,
            timeoutMs: 300_000,
            run: async ({ signal, log }: { signal: AbortSignal; log: (s: string) => void }) => retireNode(await conn(run, rest[0]!), await tryConn(run, x.node), name, { signal, log }),
          }]
        : []),
    ],
  }];
}

/** After the others took the change: the node's own containers stopped (its volumes and files stay: the data is the operator's to keep or wipe). */
export function stopRemovedPhase(run: BootstrapRun, x: Removal): Phase<NodeConfig>[] {
  return [{
    title: `${x.node.name}: its containers stopped`,
    then: [{
      title: 'compose down (volumes and files kept)',
      timeoutMs: 180_000,
      run: async () => {
        const c = await tryConn(run, x.node);
        if (!c) return 'not reachable: nothing to stop';
        await c.run(compose(run.env.baseDir, x.bundle.composeFiles, 'down', '--remove-orphans', '--timeout', '30'), { timeoutMs: 170_000 });
        return `stopped; its data stays in ${run.env.baseDir} and its Docker volumes`;
      },
    }],
  }];
}
