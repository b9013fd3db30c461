import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { haproxyRoutesTo } from '../cluster/health.js';
import { describeMembers, isLeader, isStreaming, leaderIs, membersFromAny, patroniStreaming, requestSwitchover } from '../cluster/patroni.js';
import { notYet, ready, waitUntil } from '../cluster/wait.js';
import { ProbeSession, summarizeProbe, type WriteCounts } from '../cluster/write-probe.js';
import type { OnceStep, Plan, Step } from '../engine/types.js';
import { TwincigoError, UsageError } from '../errors.js';
import type { SshPool } from '../ssh/pool.js';

export interface SwitchoverReport extends WriteCounts {
  from: string;
  to: string;
  /** Seconds from the request to Patroni reporting the new leader running. */
  switchSeconds: number;
  /** Seconds from the request until every HAProxy routed :5000 to the new leader. */
  routedSeconds: number;
  oldLeaderRejoined: boolean;
}

interface State {
  leader: string;
  candidate?: string;
  probeNode: NodeConfig;
  probe?: ProbeSession;
  requestedAt: number;
  report: Partial<SwitchoverReport>;
}

export interface SwitchoverTarget {
  leader: string;
  /** Undefined: Patroni picks a healthy replica. */
  candidate?: string;
  /** Where the write probe runs: a node on neither side of the handover, when there is one. */
  probeNode: NodeConfig;
}

/**
 * Reads the cluster (read-only) and checks the request before anything happens: one running
 * leader, and --to naming a streaming replica. Bad input is a UsageError (exit 2), nothing touched.
 */
export async function prepareSwitchover(pool: SshPool, env: EnvironmentConfig, to: string | undefined): Promise<SwitchoverTarget> {
  const nodes = env.nodes.filter((n) => n.roles.includes('patroni'));
  const { members } = await membersFromAny(pool, nodes);
  const leaders = members.filter(isLeader);
  if (leaders.length !== 1) throw new TwincigoError(`no single running leader (${describeMembers(members)}): not a time for a switchover`);
  const leader = leaders[0]!.name;
  const replicas = members.filter((m) => isStreaming(m, Infinity)).map((m) => m.name);
  if (to !== undefined) {
    if (to === leader) throw new UsageError(`${to} is the leader already`);
    if (!replicas.includes(to)) throw new UsageError(`${to} is not a streaming replica (replicas: ${replicas.join(', ') || 'none'})`);
  } else if (replicas.length === 0) throw new TwincigoError('no streaming replica to hand over to');
  const third = nodes.find((n) => n.name !== leader && n.name !== (to ?? replicas[0]));
  return { leader, ...(to !== undefined ? { candidate: to } : {}), probeNode: third ?? nodes.find((n) => n.name !== leader)! };
}

const tenths = (ms: number) => Math.round(ms / 100) / 10;

/**
 * A planned leader change (patronictl switchover), measured: a write probe through HAProxy from a
 * third node's side runs throughout; done when Patroni has the new leader, every HAProxy routes
 * :5000 to it and the old leader streams again as a replica.
 */
export function switchoverPlan(pool: SshPool, env: EnvironmentConfig, target: SwitchoverTarget, out: { report?: SwitchoverReport }): Plan<NodeConfig> {
  const st: State = { leader: target.leader, ...(target.candidate ? { candidate: target.candidate } : {}), probeNode: target.probeNode, requestedAt: 0, report: {} };
  return {
    title: `switchover ${env.name}: ${st.leader} → ${st.candidate ?? 'a replica Patroni picks'} (write probe from ${st.probeNode.name})`,
    phases: [
      { title: 'Switchover', then: [probeStep(pool, st), requestStep(pool, env, st), newLeaderStep(pool, st)] },
      { title: 'HAProxy routes :5000 to the new leader', nodes: env.nodes.filter((n) => n.roles.includes('haproxy')), steps: [routedStep(pool, env, st)] },
      { title: 'Measure', then: [measureStep(st)] },
      { title: `Old leader rejoins as a replica`, then: [rejoinStep(pool, env, st, out)] },
    ],
  };
}

const probeStep = (pool: SshPool, st: State): OnceStep => ({
  title: 'write probe through HAProxy :5000, every 100 ms',
  timeoutMs: 20_000,
  run: async ({ onCleanup }) => {
    const probe = (st.probe = new ProbeSession(await pool.get(st.probeNode)));
    onCleanup('stop the write probe', () => probe.stop());
    await probe.start();
    await waitUntil('the write probe', async () => (probe.acknowledged('w') >= 5 ? ready(true) : notYet('no acknowledged write yet')), { timeoutMs: 15_000, intervalMs: 100 });
    return 'writing';
  },
});

const requestStep = (pool: SshPool, env: EnvironmentConfig, st: State): OnceStep => ({
  title: 'POST /switchover to Patroni on the leader',
  timeoutMs: 90_000,
  run: async () => {
    const c = await pool.get(env.nodes.find((n) => n.name === st.leader)!);
    st.requestedAt = Date.now();
    return requestSwitchover(c, st.leader, st.candidate, 80_000);
  },
});

const newLeaderStep = (pool: SshPool, st: State): OnceStep => ({
  title: 'Patroni reports the new leader running',
  timeoutMs: 90_000,
  run: async ({ signal, log }) => {
    const c = await pool.get(st.probeNode);
    const leader = await waitUntil('the new leader', () => leaderIs(c, { not: st.leader }), { timeoutMs: 80_000, intervalMs: 200, signal, log });
    st.report.to = leader;
    st.report.switchSeconds = tenths(Date.now() - st.requestedAt);
    return `${leader} after ${st.report.switchSeconds}s`;
  },
});

const routedStep = (pool: SshPool, env: EnvironmentConfig, st: State): Step<NodeConfig> => ({
  title: ':5000 → new leader',
  timeoutMs: 60_000,
  run: async ({ node, signal, log }) => {
    const c = await pool.get(node);
    const want = env.nodes.find((n) => n.name === st.report.to)!.privateAddress;
    await waitUntil(`HAProxy on ${node.name}`, () => haproxyRoutesTo(c, want), { timeoutMs: 50_000, intervalMs: 200, signal, log });
    const secs = tenths(Date.now() - st.requestedAt);
    st.report.routedSeconds = Math.max(st.report.routedSeconds ?? 0, secs);
    return `after ${secs}s`;
  },
});

const measureStep = (st: State): OnceStep => ({
  title: 'write outage and lost writes',
  timeoutMs: 30_000,
  run: async () => {
    await new Promise((r) => setTimeout(r, 1000)); // a few writes on the new leader
    await st.probe!.stop();
    const s = summarizeProbe(st.probe!.events);
    const lost = await st.probe!.lostWrites();
    Object.assign(st.report, { writeOutageSeconds: s.outageSeconds, acknowledgedWrites: s.acknowledged, failedWrites: s.failed, lostWrites: lost });
    return `outage ${s.outageSeconds}s; ${s.acknowledged} writes acknowledged, ${s.failed} failed, ${lost} lost`;
  },
});

const rejoinStep = (pool: SshPool, env: EnvironmentConfig, st: State, out: { report?: SwitchoverReport }): OnceStep => ({
  title: 'every member streaming again',
  timeoutMs: 130_000,
  run: async ({ signal, log }) => {
    const c = await pool.get(st.probeNode);
    const names = env.nodes.filter((n) => n.roles.includes('patroni')).map((n) => n.name);
    await waitUntil('the old leader streaming', () => patroniStreaming(c, names), { timeoutMs: 120_000, intervalMs: 500, signal, log });
    st.report.oldLeaderRejoined = true;
    out.report = { from: st.leader, ...(st.report as Omit<SwitchoverReport, 'from'>) };
    return `${st.leader} streams from ${st.report.to}`;
  },
});
