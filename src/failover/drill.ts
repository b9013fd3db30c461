import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { patroniMembers, patroniStreaming, requestSwitchover, type PatroniMember } from '../cluster/patroni.js';
import { psqlQueryCommand } from '../cluster/psql.js';
import { notYet, ready, waitUntil } from '../cluster/wait.js';
import { ProbeSession, summarizeProbe, type ProbeEvent } from '../cluster/write-probe.js';
import type { Plan } from '../engine/types.js';
import { TwincigoError } from '../errors.js';
import type { SshPool } from '../ssh/pool.js';
import { LeaderWatch, runningLeader } from './leader-watch.js';
import { faultFor, SCENARIO_INFO, type Scenario } from './scenarios.js';

/** Who is who before the drill: checked read-only before anything is touched. */
export interface DrillTarget {
  scenario: Scenario;
  leader: NodeConfig;
  /** Where the fault goes: the leader's node, or a replica's for replica-loss. */
  faultNode: NodeConfig;
  /** A node outside the fault, where the probe runs (the operator's own link does not count). */
  probeNode: NodeConfig;
  timelineBefore: number;
}

export interface DrillResult {
  scenario: Scenario;
  oldLeader: string;
  newLeader: string | null;
  writeOutageSeconds: number;
  readOutageSeconds: number;
  acknowledgedWrites: number;
  failedWrites: number;
  lostWrites: number;
  timelineBefore: number;
  timelineAfter: number | null;
  oldLeaderRejoined: boolean;
  /** Seconds the cut-off old leader still accepted writes while the new one ran (partition); 0 is the only good answer. */
  splitBrainSeconds: number;
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
  const faultNode = scenario === 'replica-loss' ? replicas[0]! : leader;
  const probeNode = replicas.find((n) => n !== faultNode)!;
  if (!probeNode) throw new TwincigoError('a drill needs three Patroni nodes');
  const timelineBefore = Math.max(...members.map((m) => m.timeline ?? 0));
  return { scenario, leader, faultNode, probeNode, timelineBefore };
}

/**
 * One drill: probe → fault → watch the failover → restore → wait for the old leader to rejoin →
 * measure. The restore is registered as a cleanup before the fault is injected, so it runs on
 * success, failure, timeout and Ctrl-C alike.
 */
export function drillPlan(pool: SshPool, env: EnvironmentConfig, t: DrillTarget, out: { result?: DrillResult }, maxOutageSeconds: number): Plan<NodeConfig> {
  const info = SCENARIO_INFO[t.scenario];
  const nodes = env.nodes.filter((n) => n.roles.includes('patroni'));
  const addrOf = (name: string) => nodes.find((n) => n.name === name)?.privateAddress;
  const st: { probe?: ProbeSession; watch?: LeaderWatch; faultAt: number; leaderLostAt?: number; newLeaderAt?: number; newLeader?: string; splitMs: number; restored: boolean } = { faultAt: 0, splitMs: 0, restored: false };
  const probeConn = () => pool.get(t.probeNode);
  const events = (): readonly ProbeEvent[] => st.probe?.events ?? [];
  const fault = t.scenario === 'switchover' ? undefined : faultFor(t.scenario, t.faultNode, env.nodes.filter((n) => n !== t.faultNode));
  const restore = async () => {
    if (!fault || st.restored) return;
    await (await pool.get(fault.node)).run(fault.restore, { timeoutMs: 120_000 });
    st.restored = true;
  };

  return {
    title: `failover-test ${env.name}: ${t.scenario} — ${info.about}`,
    phases: [
      {
        title: `Probe from ${t.probeNode.name}: a write (:5000) and a read (:5001) every 100 ms`,
        then: [
          {
            title: 'probe answering',
            timeoutMs: 30_000,
            run: async ({ onCleanup }) => {
              const probe = (st.probe = new ProbeSession(await probeConn()));
              onCleanup('stop the probe', () => probe.stop());
              await probe.start();
              await waitUntil('the probe', async () => {
                const w = probe.acknowledged('w');
                const r = probe.acknowledged('r');
                return w >= 10 && r >= 5 ? ready(`${w} writes, ${r} reads`) : notYet(`${w} writes, ${r} reads acknowledged`);
              }, { timeoutMs: 25_000, intervalMs: 200 });
              return `writing to ${t.leader.name}`;
            },
          },
        ],
      },
      {
        title: fault ? `Fault on ${fault.node.name}` : `Switchover away from ${t.leader.name}`,
        then: [
          {
            title: info.about,
            timeoutMs: 90_000,
            run: async ({ onCleanup }) => {
              if (info.leaderChanges) {
                const c = await probeConn();
                const watch = (st.watch = new LeaderWatch(() => patroniMembers(c), t.leader.name));
                onCleanup('stop watching the leader', () => watch.stop());
              }
              if (fault) {
                onCleanup(`restore ${fault.node.name}`, restore);
                const faultConn = await pool.get(fault.node);
                st.faultAt = Date.now();
                st.watch?.start();
                await faultConn.run(fault.inject, { timeoutMs: 80_000 });
                return `injected at ${new Date(st.faultAt).toISOString()}`;
              }
              const leaderConn = await pool.get(t.leader);
              st.faultAt = Date.now();
              st.watch?.start();
              return requestSwitchover(leaderConn, t.leader.name, undefined, 80_000);
            },
          },
        ],
      },
      {
        title: info.leaderChanges ? 'Failover' : 'Writes go on',
        then: [
          {
            title: info.leaderChanges ? 'a new leader, and writes acknowledged by it' : 'the leader stays, writes go on for 5 s',
            timeoutMs: 120_000,
            run: async ({ signal, log }) => {
              const c = await probeConn();
              if (!info.leaderChanges) {
                await new Promise((r) => setTimeout(r, 5000));
                const l = runningLeader(await patroniMembers(c));
                if (l?.name !== t.leader.name) throw new TwincigoError(`the leader changed to ${l?.name ?? 'none'}: a replica's loss must not move it`);
                st.newLeader = t.leader.name;
                return `${t.leader.name} stays leader`;
              }
              const oldConn = fault?.node === t.leader && t.scenario === 'partition' ? await pool.get(t.leader) : undefined;
              let oldPrimarySince: number | undefined;
              const watch = st.watch!;
              await waitUntil('a new leader', async () => (watch.newAt !== undefined ? ready(true) : notYet(watch.lastSeen)), { timeoutMs: 100_000, intervalMs: 100, signal, log });
              await watch.stop();
              st.leaderLostAt = watch.lostAt;
              st.newLeaderAt = watch.newAt;
              st.newLeader = watch.newLeader;
              // split brain: the cut-off old leader still accepts writes while the new one runs
              if (oldConn) {
                await waitUntil('the old leader to stop taking writes', async () => {
                  const r = await oldConn.exec(psqlQueryCommand(5432, 'select not pg_is_in_recovery()'), { timeoutMs: 10_000 });
                  if (r.code === 0 && r.stdout.trim() === 't') {
                    oldPrimarySince ??= Date.now();
                    return notYet(`${t.leader.name} still takes writes`);
                  }
                  return ready(r.code === 0 ? 'read-only' : 'not accepting connections');
                }, { timeoutMs: 90_000, intervalMs: 200, signal, log });
                if (oldPrimarySince !== undefined) st.splitMs = Math.max(0, Date.now() - Math.max(oldPrimarySince, st.newLeaderAt!));
              }
              const want = addrOf(st.newLeader!);
              await waitUntil('a write acknowledged by the new leader', async () =>
                events().some((e) => e.kind === 'w' && e.ok && e.addr === want && e.atMs >= st.faultAt) ? ready(true) : notYet('writes not yet on the new leader'),
              { timeoutMs: 60_000, intervalMs: 100, signal, log });
              return `${st.newLeader} after ${secs(st.newLeaderAt, st.faultAt)}s`;
            },
          },
        ],
      },
      {
        title: 'Restore and rejoin',
        then: [
          {
            title: fault ? `undo the fault on ${fault.node.name}; every member streaming again` : 'the old leader streaming again',
            timeoutMs: 200_000,
            run: async ({ signal, log }) => {
              await restore();
              const c = await probeConn();
              // stable, not a passing moment: a rewound member may restart PostgreSQL once more
              let streak = 0;
              await waitUntil('every member streaming', async () => {
                const check = await patroniStreaming(c, nodes.map((n) => n.name));
                streak = check.ready ? streak + 1 : 0;
                return check.ready && streak >= 5 ? check : notYet(check.ready ? `streaming (${streak}/5)` : check.why);
              }, { timeoutMs: 180_000, intervalMs: 500, signal, log });
              return `${t.faultNode.name} rejoined`;
            },
          },
        ],
      },
      {
        title: 'Measure',
        then: [
          {
            title: 'outages, lost writes, timelines',
            timeoutMs: 60_000,
            run: async () => {
              await new Promise((r) => setTimeout(r, 1000));
              await st.probe!.stop();
              const w = summarizeProbe(events(), 'w');
              const r = summarizeProbe(events(), 'r');
              const lost = await st.probe!.lostWrites();
              const c = await probeConn();
              const members = await patroniMembers(c);
              const firstOnNew = events().find((e) => e.kind === 'w' && e.ok && e.atMs >= st.faultAt && e.addr === addrOf(st.newLeader ?? ''))?.atMs;
              const failures: string[] = [];
              if (w.outageSeconds > maxOutageSeconds) failures.push(`write outage ${w.outageSeconds}s > ${maxOutageSeconds}s`);
              if (lost > 0) failures.push(`${lost} acknowledged writes lost`);
              if (st.splitMs > 0) failures.push(`two primaries for ${Math.round(st.splitMs / 100) / 10}s`);
              out.result = {
                scenario: t.scenario,
                oldLeader: t.leader.name,
                newLeader: st.newLeader ?? null,
                writeOutageSeconds: w.outageSeconds,
                readOutageSeconds: r.outageSeconds,
                acknowledgedWrites: w.acknowledged,
                failedWrites: w.failed,
                lostWrites: lost,
                timelineBefore: t.timelineBefore,
                timelineAfter: Math.max(...members.map((m) => m.timeline ?? 0)),
                oldLeaderRejoined: true,
                splitBrainSeconds: Math.round(st.splitMs / 100) / 10,
                timeline: { leaderLost: secs(st.leaderLostAt, st.faultAt), newLeader: secs(st.newLeaderAt, st.faultAt), firstWriteOnNewLeader: secs(firstOnNew, st.faultAt) },
                passed: failures.length === 0,
                failures,
              };
              return `write outage ${w.outageSeconds}s, read outage ${r.outageSeconds}s, ${w.acknowledged} writes, ${lost} lost`;
            },
          },
        ],
      },
    ],
  };
}
