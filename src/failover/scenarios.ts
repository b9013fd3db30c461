import type { NodeConfig } from '../config/model.js';
import { startPatroniCommand, stopPatroniCommand } from '../remote/patroni.js';
import { PROJECT, containerName } from '../remote/compose.js';
import { and, root, seq, type Command } from '../remote/shell.js';

export const SCENARIOS = ['kill-leader', 'stop-leader', 'switchover', 'node-down', 'partition', 'replica-loss'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** What each scenario does, and the write outage it must stay under (the goals, in seconds). */
export const SCENARIO_INFO: Record<Scenario, { about: string; maxOutageSeconds: number; leaderChanges: boolean }> = {
  'kill-leader': { about: "SIGKILL the leader's Patroni/PostgreSQL container (a crash)", maxOutageSeconds: 20, leaderChanges: true },
  'stop-leader': { about: "stop the leader's container gracefully (Patroni hands the leader key over)", maxOutageSeconds: 5, leaderChanges: true },
  switchover: { about: "a planned switchover through Patroni's REST API", maxOutageSeconds: 5, leaderChanges: true },
  'node-down': { about: "every container of the leader's node killed at once (the node crashed)", maxOutageSeconds: 25, leaderChanges: true },
  partition: { about: 'the leader node cut off from the other nodes (both ways), then healed', maxOutageSeconds: 25, leaderChanges: true },
  'replica-loss': { about: "SIGKILL a replica's container (control case: writes go on)", maxOutageSeconds: 1, leaderChanges: false },
};

const PARTITION_CHAIN = 'TWINCIGO-PARTITION';
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
        inject: root('sh', '-c', `docker ps -q --filter label=com.docker.compose.project=${PROJECT} > ${NODE_DOWN_FILE} && xargs -r docker kill < ${NODE_DOWN_FILE} >/dev/null`),
        restore: root('sh', '-c', `[ -s ${NODE_DOWN_FILE} ] || exit 0; xargs -r docker start < ${NODE_DOWN_FILE} >/dev/null && rm -f ${NODE_DOWN_FILE}`),
      };
    case 'partition': {
      const addrs = peers.map((p) => p.privateAddress);
      return {
        node: target,
        // the operator's SSH comes from elsewhere and keeps working: only the peers are cut off
        inject: and(
          root('sh', '-c', `iptables -N ${PARTITION_CHAIN} 2>/dev/null || iptables -F ${PARTITION_CHAIN}`),
          ...addrs.flatMap((a) => [root('iptables', '-A', PARTITION_CHAIN, '-s', a, '-j', 'DROP'), root('iptables', '-A', PARTITION_CHAIN, '-d', a, '-j', 'DROP')]),
          root('iptables', '-I', 'INPUT', '1', '-j', PARTITION_CHAIN),
          root('iptables', '-I', 'OUTPUT', '1', '-j', PARTITION_CHAIN),
        ),
        restore: seq(
          root('sh', '-c', `while iptables -D INPUT -j ${PARTITION_CHAIN} 2>/dev/null; do :; done; while iptables -D OUTPUT -j ${PARTITION_CHAIN} 2>/dev/null; do :; done`),
          root('sh', '-c', `iptables -F ${PARTITION_CHAIN} 2>/dev/null; iptables -X ${PARTITION_CHAIN} 2>/dev/null; true`),
        ),
      };
    }
  }
}
