import type { NodeConfig } from '../../config/model.js';
import type { Phase } from '../../engine/types.js';
import { haproxyRoutesToLeader, nodeByAddress } from '../../cluster/health.js';
import { steadily, waitUntil } from '../../cluster/wait.js';
import { isConverged, type BootstrapRun } from '../bootstrap-run.js';
import { CONVERGED, WAITS, conn, has, upStep, type Ctx } from '../steps.js';

/** Longer than HAProxy's checks take to mark a server down (fall 2 × inter ≤ 1 s): the routing is HAProxy's, not its start-up default. */
export const HAPROXY_SETTLE_MS = 3000;

/** 7. HAProxy on every node (one at a time on a running cluster): :5000 must reach the leader. */
export function haproxyPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  return [{
    title: run.existing.leader ? 'HAProxy (one node at a time)' : 'HAProxy',
    nodes: run.env.nodes.filter(has('haproxy')),
    serial: Boolean(run.existing.leader),
    steps: [
      upStep(run, 'compose up haproxy', () => ['haproxy']),
      {
        title: ':5000 reaches the leader',
        timeoutMs: (WAITS.haproxy + 20) * 1000,
        skip: ({ node }: Ctx) => (isConverged(run, node) ? `${CONVERGED} (the report reads its routing)` : false),
        run: async ({ node, signal, log }: Ctx) => {
          const c = await conn(run, node);
          // steady, not a lucky first try: a new HAProxy routes to any server until its checks have run
          const addr = await waitUntil(`HAProxy on ${node.name}`, steadily(() => haproxyRoutesToLeader(c), HAPROXY_SETTLE_MS), { timeoutMs: WAITS.haproxy * 1000, intervalMs: 500, signal, log });
          return `→ ${nodeByAddress(run.env.nodes, addr)}`;
        },
      },
    ],
  }];
}
