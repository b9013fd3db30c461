import type { NodeConfig } from '../config/model.js';
import { startPatroniCommand, stopPatroniCommand } from '../remote/patroni.js';
import { PROJECT, containerName } from '../remote/compose.js';
import { and, root, seq, type Command } from '../remote/shell.js';

export const SCENARIOS = ['kill-leader', 'stop-leader', 'switchover', 'node-down', 'partition', 'replica-loss', 'app-node-down'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** What each scenario does, and the write outage it must stay under (the goals, in seconds). */
/**
 * apiOutageSeconds (Swarm, where an edge outside the fault is probed): the API outage allowed,
 * added to the write outage when the leader moves (the API needs the database).
 */
export const SCENARIO_INFO: Record<Scenario, { about: string; maxOutageSeconds: number; leaderChanges: boolean; apiOutageSeconds: number }> = {
  'kill-leader': { about: "SIGKILL the leader's Patroni/PostgreSQL container (a crash)", maxOutageSeconds: 20, leaderChanges: true, apiOutageSeconds: 5 },
  'stop-leader': { about: "stop the leader's container gracefully (Patroni hands the leader key over)", maxOutageSeconds: 5, leaderChanges: true, apiOutageSeconds: 5 },
  switchover: { about: "a planned switchover through Patroni's REST API", maxOutageSeconds: 5, leaderChanges: true, apiOutageSeconds: 5 },
  'node-down': { about: "every container of the leader's node killed at once (the node crashed)", maxOutageSeconds: 25, leaderChanges: true, apiOutageSeconds: 5 },
  partition: { about: 'the leader node cut off from the other nodes (both ways), then healed', maxOutageSeconds: 25, leaderChanges: true, apiOutageSeconds: 5 },
  'replica-loss': { about: "SIGKILL a replica's container (control case: writes go on)", maxOutageSeconds: 1, leaderChanges: false, apiOutageSeconds: 5 },
  // a replica whose node runs app tasks: the cluster and the clients lose it; the sync standby may have to move (Patroni's next loop)
  'app-node-down': { about: "a node that does not lead cut off from everyone but the operator's SSH (a crashed app node)", maxOutageSeconds: 15, leaderChanges: false, apiOutageSeconds: 5 },
};

const PARTITION_CHAIN = 'TWINCIGO-PARTITION';
const CUT_CHAIN = 'TWINCIGO-CUT';

/** The operator's SSH (new and established), both ways. */
const sshKept = (n: NodeConfig) => [...new Set([22, n.ssh.port ?? 22])].flatMap((p) => [
  root('iptables', '-A', CUT_CHAIN, '-p', 'tcp', '--dport', String(p), '-j', 'RETURN'),
  root('iptables', '-A', CUT_CHAIN, '-p', 'tcp', '--sport', String(p), '-j', 'RETURN'),
]);

/** A chain of rules hooked first into INPUT, OUTPUT and (containers' traffic) FORWARD; the restore unhooks and deletes it. */
function isolation(node: NodeConfig, chain: string, rules: Command[], forward: boolean): Fault {
  const hooks = ['INPUT', 'OUTPUT', ...(forward ? ['FORWARD'] : [])];
  return {
    node,
    inject: and(root('sh', '-c', `iptables -N ${chain} 2>/dev/null || iptables -F ${chain}`), ...rules, ...hooks.map((h) => root('iptables', '-I', h, '1', '-j', chain))),
    restore: seq(
      root('sh', '-c', hooks.map((h) => `while iptables -D ${h} -j ${chain} 2>/dev/null; do :; done`).join('; ')),
      root('sh', '-c', `iptables -F ${chain} 2>/dev/null; iptables -X ${chain} 2>/dev/null; true`),
    ),
  };
}
const NODE_DOWN_FILE = '/tmp/twincigo-node-down.ids';

export interface Fault {
  /** Where the fault is injected (the leader's node, or a replica's for replica-loss). */
  node: NodeConfig;
  inject: Command;
  /** Undoes it; safe to run more than once and when inject never ran. */
  restore: Command;
}

/** The fault of a scenario as commands on the target node (switchover has none: it goes through Patroni). */
export function faultFor(scenario: Exclude<Scenario, 'switchover'>, target: NodeConfig, peers: readonly NodeConfig[]): Fault {
  const patroni = containerName('patroni');
  const start = startPatroniCommand();
  switch (scenario) {
    case 'kill-leader':
    case 'replica-loss':
      return { node: target, inject: root('docker', 'kill', patroni), restore: start };
    case 'stop-leader':
      return { node: target, inject: stopPatroniCommand(), restore: start };
    case 'node-down':
      return {
        node: target,
        // every container at once, Swarm's tasks too (Swarm starts new ones); the restore starts Compose's again
        inject: root('sh', '-c', `docker ps -q --filter label=com.docker.compose.project=${PROJECT} > ${NODE_DOWN_FILE} && docker ps -q | xargs -r docker kill >/dev/null`),
        restore: root('sh', '-c', `[ -s ${NODE_DOWN_FILE} ] || exit 0; xargs -r docker start < ${NODE_DOWN_FILE} >/dev/null && rm -f ${NODE_DOWN_FILE}`),
      };
    case 'app-node-down':
      return isolation(target, CUT_CHAIN, [root('iptables', '-A', CUT_CHAIN, '-i', 'lo', '-j', 'RETURN'), ...sshKept(target), root('iptables', '-A', CUT_CHAIN, '-j', 'DROP')], true);
    case 'partition': {
      // the operator's SSH comes from elsewhere and keeps working: only the peers are cut off
      const addrs = peers.map((p) => p.privateAddress);
      return isolation(target, PARTITION_CHAIN, addrs.flatMap((a) => [root('iptables', '-A', PARTITION_CHAIN, '-s', a, '-j', 'DROP'), root('iptables', '-A', PARTITION_CHAIN, '-d', a, '-j', 'DROP')]), false);
    }
  }
}
