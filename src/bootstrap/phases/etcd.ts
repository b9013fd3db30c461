import type { NodeConfig } from '../../config/model.js';
import type { Phase } from '../../engine/types.js';
import { etcdQuorum } from '../../cluster/health.js';
import { waitUntil } from '../../cluster/wait.js';
import type { BootstrapRun } from '../bootstrap-run.js';
import { WAITS, conn, has, unlessRestarted, upStep } from '../steps.js';

/** 5. etcd: a new cluster's members together (to elect a leader); a running one's one at a time, quorum checked after each. */
export function etcdPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  const etcdNodes = run.env.nodes.filter(has('etcd'));
  const quorum = (ctx: { signal: AbortSignal; log: (l: string) => void }) =>
    conn(run, etcdNodes[0]!).then((c) => waitUntil('etcd quorum', () => etcdQuorum(c, etcdNodes), { timeoutMs: WAITS.etcd * 1000, intervalMs: 500, signal: ctx.signal, log: ctx.log }));
  const title = `quorum: all ${etcdNodes.length} members healthy`;
  const up = upStep(run, 'compose up etcd', () => ['etcd']);
  if (run.existing.etcd) {
    return [{ title: 'etcd (one member at a time)', nodes: etcdNodes, serial: true, steps: [up, { title, timeoutMs: (WAITS.etcd + 20) * 1000, skip: unlessRestarted(run, 'etcd'), run: quorum }] }];
  }
  return [{ title: 'etcd', nodes: etcdNodes, steps: [up], then: [{ title, timeoutMs: (WAITS.etcd + 20) * 1000, run: quorum }] }];
}
