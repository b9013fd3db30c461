import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { patroniMembers, patroniStreaming, requestSwitchover, type PatroniMember } from '../cluster/patroni.js';
import { psqlQueryCommand } from '../cluster/psql.js';
import { notYet, ready, waitUntil } from '../cluster/wait.js';
import { ProbeSession, summarizeProbe, type ProbeEvent, type WriteCounts } from '../cluster/write-probe.js';
import type { OnceStep, Plan } from '../engine/types.js';
import { TwincigoError } from '../errors.js';
import type { SshConnection } from '../ssh/connection.js';
import type { SshPool } from '../ssh/pool.js';
import { LeaderWatch, runningLeader } from './leader-watch.js';
import { ApiProbe, apiTarget, type ApiTarget } from './api-probe.js';
import { usesSwarm } from '../swarm/services.js';
import { rebalance, swarmMovedTasks } from '../swarm/rebalance.js';
import { faultFor, SCENARIO_INFO, type Scenario } from './scenarios.js';

/** Who is who before the drill: checked read-only before anything is touched. */
export interface DrillTarget {
  scenario: Scenario;
  leader: NodeConfig;
  /** Where the fault goes: the leader's node, or a replica's for replica-loss. */
  faultNode: NodeConfig;
  /** A node outside the fault, where the probe runs (the operator's own link does not count). */
  probeNode: NodeConfig;
  /** The faulted node (the leader's for a switchover): a second probe runs there, as an app on that node connects. */
  colocatedNode: NodeConfig;
  /** The member Patroni had as synchronous standby before the fault (null: asynchronous). */
  synchronousStandby: string | null;
  timelineBefore: number;
}

/** The API as a client saw it during the drill, through one edge. */
export interface ApiOutage {
  edge: string;
  requests: number;
  failed: number;
  /** The worse path's. */
  outageSeconds: number;
  /** Each path's outage (the backend's needs the database; Kong → auth does not). */
  paths: Record<string, number>;
  limitSeconds: number;
}

/** One probe's side of a drill: its node, where it stood, and its writes' fate. */
export interface ProbeSide {
  node: string;
  side: 'outside' | 'colocated';
  acknowledgedWrites: number;
  failedWrites: number;
  /** Acknowledged, then missing on the leader after the drill. */
  lostWrites: number;
  writeOutageSeconds: number;
}

export interface DrillResult extends WriteCounts {
  scenario: Scenario;
  /** The outside probe's figures are the drill's own (outage, writes); lostWrites counts both probes. */
  probes: ProbeSide[];
  synchronousStandby: string | null;
  oldLeader: string;
  newLeader: string | null;
  readOutageSeconds: number;
  timelineBefore: number;
  timelineAfter: number | null;
  oldLeaderRejoined: boolean;
  /** Seconds the cut-off old leader still accepted writes while the new one ran (partition); 0 is the only good answer. */
  splitBrainSeconds: number;
  /** Swarm: the API through an edge outside the fault (null under Compose). */
  api: ApiOutage | null;
  /** Seconds after the fault: leader key lost, new leader seen, first write acknowledged by the new leader. */
  timeline: { leaderLost: number | null; newLeader: number | null; firstWriteOnNewLeader: number | null };
  passed: boolean;
  failures: string[];
}

const secs = (ms: number | undefined, from: number) => (ms === undefined ? null : Math.round((ms - from) / 100) / 10);

/**
 * Reads the cluster and picks the nodes; refuses unless there is one leader and every replica
 * streams — waiting up to waitMs for that (a member restarting after the previous run's rejoin).
 */
export async function prepareDrill(pool: SshPool, env: EnvironmentConfig, scenario: Scenario, waitMs = 10_000): Promise<DrillTarget> {
  const nodes = env.nodes.filter((n) => n.roles.includes('patroni'));
  const byName = (name: string) => nodes.find((n) => n.name === name)!;
  let members: PatroniMember[];
  try {
    members = await waitUntil('a healthy cluster', async () => {
      for (const n of nodes) {
        const c = await pool.get(n).catch(() => undefined);
        if (c) return patroniStreaming(c, nodes.map((x) => x.name));
      }
      return notYet('no Patroni node answered over SSH');
    }, { timeoutMs: waitMs, intervalMs: 1000 });
  } catch (err) {
    throw new TwincigoError(`the cluster is not healthy, no drill: ${(err as Error).message.replace(/^a healthy cluster: not ready after \d+s — /, '')}`, 1, ['twincigo status shows what is wrong']);
  }
  const leader = byName(runningLeader(members)!.name);
  const replicas = nodes.filter((n) => n !== leader);
  const faultNode = scenario === 'replica-loss' ? replicas[0]! : scenario === 'app-node-down' ? appNodeOf(env, replicas) : leader;
  const probeNode = replicas.find((n) => n !== faultNode)!;
  if (!probeNode) throw new TwincigoError('a drill needs three Patroni nodes');
  const timelineBefore = Math.max(...members.map((m) => m.timeline ?? 0));
  const synchronousStandby = members.find((m) => m.role === 'sync_standby')?.name ?? null;
  return { scenario, leader, faultNode, probeNode, colocatedNode: faultNode, synchronousStandby, timelineBefore };
}

/** app-node-down: a replica's node that runs app tasks (Swarm), Supabase's first. */
function appNodeOf(env: EnvironmentConfig, replicas: NodeConfig[]): NodeConfig {
  if (!usesSwarm(env)) throw new TwincigoError('app-node-down measures the API through an edge outside the fault: prod\'s Swarm stack only (this environment runs its app tier under Compose)', 2);
  const app = (r: string) => replicas.find((n) => n.roles.includes(r as never));
  const node = app('supabase') ?? app('backend');
  if (!node) throw new TwincigoError('app-node-down needs a node that runs app tasks and does not lead: every app node leads or none runs them', 2);
  return node;
}

/** What the steps of one drill share: who is who, the fault, and what has been seen so far. */
interface Drill {
  pool: SshPool;
  env: EnvironmentConfig;
  t: DrillTarget;
  info: (typeof SCENARIO_INFO)[Scenario];
  nodes: NodeConfig[];
  fault: ReturnType<typeof faultFor> | undefined;
  /** Swarm: the API probed through an edge outside the fault. */
  api: ApiTarget | null;
  st: { probe?: ProbeSession; colocated?: ProbeSession; apiProbe?: ApiProbe; watch?: LeaderWatch; faultAt: number; leaderLostAt?: number; newLeaderAt?: number; newLeader?: string; splitMs: number; restored: boolean };
}

const probeConn = (d: Drill) => d.pool.get(d.t.probeNode);
const events = (d: Drill): readonly ProbeEvent[] => d.st.probe?.events ?? [];
const addrOf = (d: Drill, name: string) => d.nodes.find((n) => n.name === name)?.privateAddress;

/** Undoes the fault once (a cleanup, so also on failure, timeout and Ctrl-C). */
async function restore(d: Drill): Promise<void> {
  if (!d.fault || d.st.restored) return;
  await (await d.pool.get(d.fault.node)).run(d.fault.restore, { timeoutMs: 120_000 });
  d.st.restored = true;
}

/**
 * One drill: probe → fault → watch the failover → restore → wait for the old leader to rejoin →
 * measure. The restore is registered as a cleanup before the fault is injected, so it runs on
 * success, failure, timeout and Ctrl-C alike.
 */
export function drillPlan(pool: SshPool, env: EnvironmentConfig, t: DrillTarget, out: { result?: DrillResult }, maxOutageSeconds: number, values: Record<string, string> = {}): Plan<NodeConfig> {
  const info = SCENARIO_INFO[t.scenario];
  const fault = t.scenario === 'switchover' ? undefined : faultFor(t.scenario, t.faultNode, env.nodes.filter((n) => n !== t.faultNode));
  const api = apiTarget(env, values, fault?.node);
  const d: Drill = { pool, env, t, info, fault, api, nodes: env.nodes.filter((n) => n.roles.includes('patroni')), st: { faultAt: 0, splitMs: 0, restored: false } };
  return {
    title: `failover-test ${env.name}: ${t.scenario} — ${info.about}`,
    phases: [
      { title: `Probes on ${t.probeNode.name} (outside the fault) and ${t.colocatedNode.name} (the faulted node): a write (:5000) and a read (:5001) every 100 ms${api ? `; the API through ${api.edge.name}'s edge every 100 ms` : ''}`, then: [probeStep(d)] },
      { title: fault ? `Fault on ${fault.node.name}` : `Switchover away from ${t.leader.name}`, then: [faultStep(d)] },
      { title: info.leaderChanges ? 'Failover' : 'Writes go on', then: [info.leaderChanges ? failoverStep(d) : leaderStaysStep(d)] },
      { title: 'Restore and rejoin', then: [rejoinStep(d)] },
      { title: 'Measure', then: [measureStep(d, out, maxOutageSeconds)] },
    ],
  };
}

const probeStep = (d: Drill): OnceStep => ({
  title: 'probe answering',
  timeoutMs: 30_000,
  run: async ({ onCleanup }) => {
    const probe = (d.st.probe = new ProbeSession(await probeConn(d)));
    const colocated = (d.st.colocated = new ProbeSession(await d.pool.get(d.t.colocatedNode)));
    const api = (d.st.apiProbe = d.api ? new ApiProbe(d.api) : undefined);
    onCleanup('stop the probes', async () => { await Promise.all([probe.stop(), colocated.stop(), api?.stop()]); });
    await Promise.all([probe.start(), colocated.start()]);
    api?.start();
    await waitUntil('the probes', async () => {
      const [w, r, cw, a] = [probe.acknowledged('w'), probe.acknowledged('r'), colocated.acknowledged('w'), api?.acknowledged() ?? 10];
      const seen = `${w} writes, ${r} reads outside; ${cw} writes on ${d.t.colocatedNode.name}${api ? `; ${a} API requests` : ''}`;
      return w >= 10 && r >= 5 && cw >= 10 && a >= 10 ? ready(seen) : notYet(`${seen} answered`);
    }, { timeoutMs: 25_000, intervalMs: 200 });
    return `writing to ${d.t.leader.name}${d.t.synchronousStandby ? ` (synchronous standby ${d.t.synchronousStandby})` : ' (asynchronous)'}`;
  },
});

const faultStep = (d: Drill): OnceStep => ({
  title: d.info.about,
  timeoutMs: 90_000,
  run: async ({ onCleanup }) => {
    const { st, fault, t } = d;
    if (d.info.leaderChanges) {
      const c = await probeConn(d);
      const watch = (st.watch = new LeaderWatch(() => patroniMembers(c), t.leader.name));
      onCleanup('stop watching the leader', () => watch.stop());
    }
    if (fault) {
      onCleanup(`restore ${fault.node.name}`, () => restore(d));
      const faultConn = await d.pool.get(fault.node);
      st.faultAt = Date.now();
      st.watch?.start();
      await faultConn.run(fault.inject, { timeoutMs: 80_000 });
      return `injected at ${new Date(st.faultAt).toISOString()}`;
    }
    const leaderConn = await d.pool.get(t.leader);
    st.faultAt = Date.now();
    st.watch?.start();
    return requestSwitchover(leaderConn, t.leader.name, undefined, 80_000);
  },
});

/** replica-loss: the leader must stay, and writes go on. */
const leaderStaysStep = (d: Drill): OnceStep => ({
  title: d.t.scenario === 'app-node-down' ? 'the leader stays, writes go on; Swarm finds the node down and runs its tasks elsewhere' : 'the leader stays, writes go on for 5 s',
  timeoutMs: 180_000,
  run: async ({ signal, log }) => {
    await new Promise((r) => setTimeout(r, 5000));
    // a lost app node: held until Swarm has noticed and moved its tasks, so the API is measured through that
    const moved = d.t.scenario === 'app-node-down' ? await swarmMovedTasks(d.env, await probeConn(d), d.t.faultNode.name, { signal, log }) : '';
    const l = runningLeader(await patroniMembers(await probeConn(d)));
    if (l?.name !== d.t.leader.name) throw new TwincigoError(`the leader changed to ${l?.name ?? 'none'}: a replica's loss must not move it`);
    d.st.newLeader = d.t.leader.name;
    return `${d.t.leader.name} stays leader${moved ? `; ${moved}` : ''}`;
  },
});

const failoverStep = (d: Drill): OnceStep => ({
  title: 'a new leader, and writes acknowledged by it',
  timeoutMs: 120_000,
  run: async ({ signal, log }) => {
    const { st, t } = d;
    const watch = st.watch!;
    await waitUntil('a new leader', async () => (watch.newAt !== undefined ? ready(true) : notYet(watch.lastSeen)), { timeoutMs: 100_000, intervalMs: 100, signal, log });
    await watch.stop();
    st.leaderLostAt = watch.lostAt;
    st.newLeaderAt = watch.newAt;
    st.newLeader = watch.newLeader;
    if (d.fault?.node === t.leader && t.scenario === 'partition') await splitBrain(d, { signal, log });
    const want = addrOf(d, st.newLeader!);
    await waitUntil('a write acknowledged by the new leader', async () =>
      events(d).some((e) => e.kind === 'w' && e.ok && e.addr === want && e.atMs >= st.faultAt) ? ready(true) : notYet('writes not yet on the new leader'),
    { timeoutMs: 60_000, intervalMs: 100, signal, log });
    return `${st.newLeader} after ${secs(st.newLeaderAt, st.faultAt)}s`;
  },
});

/** partition: how long the cut-off old leader still took writes while the new one ran (0 is the only good answer). */
async function splitBrain(d: Drill, w: { signal: AbortSignal; log: (l: string) => void }): Promise<void> {
  const oldConn = await d.pool.get(d.t.leader);
  let oldPrimarySince: number | undefined;
  await waitUntil('the old leader to stop taking writes', async () => {
    const r = await oldConn.exec(psqlQueryCommand(5432, 'select not pg_is_in_recovery()'), { timeoutMs: 10_000 });
    if (r.code === 0 && r.stdout.trim() === 't') {
      oldPrimarySince ??= Date.now();
      return notYet(`${d.t.leader.name} still takes writes`);
    }
    return ready(r.code === 0 ? 'read-only' : 'not accepting connections');
  }, { timeoutMs: 90_000, intervalMs: 200, ...w });
  if (oldPrimarySince !== undefined) d.st.splitMs = Math.max(0, Date.now() - Math.max(oldPrimarySince, d.st.newLeaderAt!));
}

const rejoinStep = (d: Drill): OnceStep => ({
  title: d.fault ? `undo the fault on ${d.fault.node.name}; every member streaming again` : 'the old leader streaming again',
  timeoutMs: 200_000,
  run: async ({ signal, log }) => {
    await restore(d);
    const c = await probeConn(d);
    // stable, not a passing moment: a rewound member may restart PostgreSQL once more
    let streak = 0;
    await waitUntil('every member streaming', async () => {
      const check = await patroniStreaming(c, d.nodes.map((n) => n.name));
      streak = check.ready ? streak + 1 : 0;
      return check.ready && streak >= 5 ? check : notYet(check.ready ? `streaming (${streak}/5)` : check.why);
    }, { timeoutMs: 180_000, intervalMs: 500, signal, log });
    // Swarm: the node's share of the app tier back on it (Swarm itself never moves a running task)
    const spread = usesSwarm(d.env) ? await rebalance(d.env, c, { signal, log, waitForNodesMs: 120_000 }) : [];
    return `${d.t.faultNode.name} rejoined${spread.length ? `; ${spread.join(', ')} spread over the nodes again` : ''}`;
  },
});

const measureStep = (d: Drill, out: { result?: DrillResult }, maxOutageSeconds: number): OnceStep => ({
  title: 'outages, lost writes, timelines',
  timeoutMs: 60_000,
  run: async () => {
    const { st, t } = d;
    await new Promise((r) => setTimeout(r, 1000));
    await Promise.all([st.probe!.stop(), st.colocated!.stop(), st.apiProbe?.stop()]);
    const w = summarizeProbe(events(d), 'w');
    const api = apiFigures(d, w.outageSeconds);
    const r = summarizeProbe(events(d), 'r');
    const outside = await probeConn(d);
    const probes = await Promise.all([
      probeSide(t.probeNode.name, 'outside', st.probe!, outside),
      probeSide(t.colocatedNode.name, 'colocated', st.colocated!, outside),
    ]);
    const lost = probes.reduce((n, p) => n + p.lostWrites, 0);
    const members = await patroniMembers(outside);
    const firstOnNew = events(d).find((e) => e.kind === 'w' && e.ok && e.atMs >= st.faultAt && e.addr === addrOf(d, st.newLeader ?? ''))?.atMs;
    const failures: string[] = [];
    if (w.outageSeconds > maxOutageSeconds) failures.push(`write outage ${w.outageSeconds}s > ${maxOutageSeconds}s`);
    if (lost > 0) failures.push(`${lost} acknowledged writes lost (${probes.map((p) => `${p.lostWrites} from ${p.node}, ${p.side}`).join('; ')})`);
    if (st.splitMs > 0) failures.push(`two primaries for ${Math.round(st.splitMs / 100) / 10}s`);
    if (api && api.outageSeconds > api.limitSeconds) failures.push(`API outage ${api.outageSeconds}s > ${api.limitSeconds}s (through ${api.edge})`);
    out.result = {
      scenario: t.scenario, probes, synchronousStandby: t.synchronousStandby, oldLeader: t.leader.name, newLeader: st.newLeader ?? null,
      writeOutageSeconds: w.outageSeconds, readOutageSeconds: r.outageSeconds, acknowledgedWrites: w.acknowledged, failedWrites: w.failed, lostWrites: lost,
      timelineBefore: t.timelineBefore, timelineAfter: Math.max(...members.map((m) => m.timeline ?? 0)), oldLeaderRejoined: true,
      splitBrainSeconds: Math.round(st.splitMs / 100) / 10,
      api,
      timeline: { leaderLost: secs(st.leaderLostAt, st.faultAt), newLeader: secs(st.newLeaderAt, st.faultAt), firstWriteOnNewLeader: secs(firstOnNew, st.faultAt) },
      passed: failures.length === 0,
      failures,
    };
    return `write outage ${w.outageSeconds}s, read outage ${r.outageSeconds}s, ${w.acknowledged} writes, ${lost} lost${api ? `; API outage ${api.outageSeconds}s` : ''}`;
  },
});

/** The API probe's figures and its limit: the scenario's, plus the write outage when the leader moved (the API needs the database). */
function apiFigures(d: Drill, writeOutage: number): ApiOutage | null {
  const p = d.st.apiProbe;
  if (!p || !d.api) return null;
  const s = p.summary();
  return { edge: d.api.edge.name, requests: s.attempts, failed: s.failed, outageSeconds: s.outageSeconds, paths: s.paths, limitSeconds: Math.round((d.info.apiOutageSeconds + (d.info.leaderChanges ? writeOutage : 0)) * 10) / 10 };
}

/** A probe's figures; its lost writes asked through the outside node's :5000 (the faulted node's may not route yet). */
async function probeSide(node: string, side: ProbeSide['side'], probe: ProbeSession, via: SshConnection): Promise<ProbeSide> {
  const w = summarizeProbe(probe.events, 'w');
  return { node, side, acknowledgedWrites: w.acknowledged, failedWrites: w.failed, lostWrites: await probe.lostWrites(via), writeOutageSeconds: w.outageSeconds };
}
