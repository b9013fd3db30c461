import { setTimeout as sleep } from 'node:timers/promises';
import { haproxyRoutesTo, haproxyRoutesToLeader } from '../cluster/health.js';
import { FAILOVER_MAX_LAG, isLeaderRole, leaderIs, leaderName, patroniLeader, patroniMembers, patroniStreaming, requestSwitchover, type PatroniMember } from '../cluster/patroni.js';
import { parseApiResponse, patroniApiCommand } from '../cluster/patroni-api.js';
import { upServices } from '../cluster/services.js';
import { notYet, ready, waitUntil } from '../cluster/wait.js';
import type { NodeConfig } from '../config/model.js';
import type { Phase } from '../engine/types.js';
import { TwincigoError } from '../errors.js';
import { note, nodeNamed, type DeployRun } from './deploy-run.js';
import { psqlQueryCommand } from '../cluster/psql.js';
import type { SshConnection } from '../ssh/connection.js';

/** Seconds: a member back and streaming; the switchover; HAProxy following it. */
export const ROLLING_WAITS = { member: 300, switchover: 90, haproxy: 30 } as const;

type Wait = { signal: AbortSignal; log: (line: string) => void };

/**
 * Patroni members that must restart (a parameter pending restart) or be recreated (their compose
 * definition changed), one at a time: replicas first, each back and streaming with lag under 1 MB
 * before the next; then a switchover moves the leader to a replica already done, and the old
 * leader follows. Writes are interrupted once, for the switchover; reads on replicas never all at
 * once.
 */
export function patroniRollingPhase(run: DeployRun): Phase<NodeConfig> | null {
  const members = run.env.nodes.filter((n) => n.roles.includes('patroni'));
  const recreate = new Set(run.nodes.filter((n) => run.changes.get(n.name)?.recreate.includes('patroni')).map((n) => n.name));
  const restarts = (run.dcs?.restartParameters.length ?? 0) > 0 || run.pendingRestart.length > 0;
  if (recreate.size === 0 && !restarts) return null;
  return {
    title: 'Patroni, one member at a time',
    then: [
      {
        title: 'replicas first, then the leader after a switchover',
        timeoutMs: (ROLLING_WAITS.member * (members.length + 1) + ROLLING_WAITS.switchover + 120) * 1000,
        run: async ({ signal, log }) => {
          const wait: Wait = { signal, log };
          const probe = await run.pool.get(members[0]!);
          const ms = await patroniMembers(probe);
          const leader = leaderName(ms);
          if (!leader) throw new TwincigoError('no Patroni leader: not restarting anything');
          const needs = (name: string, list: PatroniMember[]) => recreate.has(name) || Boolean(list.find((m) => m.name === name)?.pending_restart);
          const done: string[] = [];
          const lowered = await loweredOnLeader(await run.pool.get(nodeNamed(run, leader)));
          if (lowered.length > 0 && !recreate.has(leader)) {
            // a replica keeps the primary's value of these until the primary runs with the lower one
            log(`${lowered.join(', ')} lowered: the leader restarts first (replicas cannot go below the primary)`);
            await restartMember(run, nodeNamed(run, leader), false, wait, true);
            done.push(leader);
          }
          for (const r of members.filter((n) => n.name !== leader && needs(n.name, ms))) {
            await restartMember(run, r, recreate.has(r.name), wait);
            done.push(r.name);
          }
          const now = await patroniMembers(probe);
          if (!needs(leader, now)) return done.length ? `${done.join(', ')} done; leader ${leader}` : 'nothing to restart';
          const candidate = done.find((n) => n !== leader) ?? members.find((n) => n.name !== leader)!.name;
          const newLeader = await switchover(run, leader, candidate, wait);
          // Patroni demotes the old leader after the new one leads: wait until it streams as a replica
          await waitUntil(`${leader} back as a replica`, async () => {
            const m = (await patroniMembers(probe)).find((x) => x.name === leader);
            return m && !isLeaderRole(m.role) && m.state === 'streaming' ? ready(m) : notYet(m ? `${leader} ${m.role}/${m.state}` : `${leader} not a member`);
          }, { timeoutMs: ROLLING_WAITS.member * 1000, intervalMs: 500, ...wait });
          const after = await patroniMembers(probe);
          if (needs(leader, after)) await restartMember(run, nodeNamed(run, leader), recreate.has(leader), wait);
          done.push(leader);
          return `${done.join(', ')} done; leader ${leader} → ${newLeader}`;
        },
      },
    ],
  };
}

/** Parameters a replica must keep at least at the primary's value (PostgreSQL's hot standby rule). */
export const AT_LEAST_PRIMARY = ['max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction'];

export const RUNNING_SQL = `select name, setting from pg_settings where name in (${AT_LEAST_PRIMARY.map((n) => `'${n}'`).join(',')})`;

/**
 * Of those parameters, the ones Patroni's cluster config sets below what the leader runs with.
 * (Patroni passes them on postgres's command line: the config files do not hold them.)
 */
async function loweredOnLeader(conn: SshConnection): Promise<string[]> {
  const cfg = parseApiResponse((await conn.run(patroniApiCommand('GET', '/config'), { timeoutMs: 30_000 })).stdout);
  const wanted = ((JSON.parse(cfg.body || '{}') as { postgresql?: { parameters?: Record<string, unknown> } }).postgresql?.parameters ?? {}) as Record<string, unknown>;
  const res = await conn.exec(psqlQueryCommand(5432, RUNNING_SQL), { timeoutMs: 20_000 });
  if (res.code !== 0) return [];
  return res.stdout
    .split('\n')
    .map((l) => l.trim().split('|'))
    .filter(([name, setting]) => name && wanted[name] !== undefined && Number(wanted[name]) < Number(setting))
    .map(([name]) => name!);
}

/** A restarted member still flagging a pending restart after this long is restarted again (at most twice). */
export const STILL_PENDING_MS = 30_000;

async function restartMember(run: DeployRun, node: NodeConfig, recreate: boolean, w: Wait, isLeader = false): Promise<void> {
  const conn = await run.pool.get(node);
  if (recreate) {
    w.log(`${node.name}: recreating patroni`);
    await upServices(conn, run.env.baseDir, run.composeFiles.get(node.name)!, ['patroni'], { waitSec: ROLLING_WAITS.member, signal: w.signal });
    note(run, node.name, { kind: 'recreated', service: 'patroni' });
  } else {
    await restartPostgres(conn, node, w);
    note(run, node.name, { kind: 'restarted', service: 'PostgreSQL' });
  }
  const names = run.env.nodes.filter((n) => n.roles.includes('patroni')).map((n) => n.name);
  for (let attempt = 1; ; attempt++) {
    if (isLeader) {
      await waitUntil(`${node.name} leading again, HAProxy routing to it`, async () => {
        const l = await patroniLeader(conn);
        if (!l.ready || l.value !== node.name) return notYet(l.ready ? `leader ${l.value}` : l.why);
        return haproxyRoutesToLeader(conn);
      }, { timeoutMs: ROLLING_WAITS.member * 1000, intervalMs: 250, ...w });
    }
    let pending = false;
    await waitUntil(`${node.name} back and streaming (lag < 1 MB)`, async () => {
      const check = await patroniStreaming(conn, names, FAILOVER_MAX_LAG);
      if (!check.ready) return check;
      pending = Boolean(check.value.find((m) => m.name === node.name)?.pending_restart);
      return pending ? notYet(`${node.name} still pending restart`) : ready(true);
    }, { timeoutMs: (attempt < 3 && !recreate ? STILL_PENDING_MS : ROLLING_WAITS.member * 1000), intervalMs: 500, ...w }).then(
      () => (pending = false),
      (err: unknown) => {
        // a restart that raced with Patroni applying the new config: once more
        if (!pending || recreate || attempt >= 3) throw err;
      },
    );
    if (!pending) return;
    w.log(`${node.name}: still pending restart ${STILL_PENDING_MS / 1000}s after it; restarting again`);
    await restartPostgres(conn, node, w);
  }
}

async function restartPostgres(conn: SshConnection, node: NodeConfig, w: Wait): Promise<void> {
  w.log(`${node.name}: restarting PostgreSQL (POST /restart)`);
  let res = parseApiResponse((await conn.run(patroniApiCommand('POST', '/restart', {}), { timeoutMs: ROLLING_WAITS.member * 1000 })).stdout);
  // 503 while Patroni is busy with something else (a demotion finishing): ask again shortly
  for (let i = 0; i < 5 && res.status === 503; i++) {
    w.log(`${node.name}: Patroni busy (${res.body}); asking again`);
    await sleep(2000, undefined, { signal: w.signal });
    res = parseApiResponse((await conn.run(patroniApiCommand('POST', '/restart', {}), { timeoutMs: ROLLING_WAITS.member * 1000 })).stdout);
  }
  if (res.status !== 200) throw new TwincigoError(`${node.name}: Patroni could not restart PostgreSQL (HTTP ${res.status}): ${res.body}`);
}

async function switchover(run: DeployRun, leader: string, candidate: string, w: Wait): Promise<string> {
  w.log(`switchover ${leader} → ${candidate}`);
  await requestSwitchover(await run.pool.get(nodeNamed(run, leader)), leader, candidate, ROLLING_WAITS.switchover * 1000);
  const cand = nodeNamed(run, candidate);
  const candConn = await run.pool.get(cand);
  await waitUntil(`${candidate} leading`, () => leaderIs(candConn, { name: candidate }), { timeoutMs: ROLLING_WAITS.switchover * 1000, intervalMs: 200, ...w });
  for (const n of run.env.nodes.filter((x) => x.roles.includes('haproxy'))) {
    const c = await run.pool.get(n);
    await waitUntil(`${n.name}: HAProxy :5000 → ${candidate}`, () => haproxyRoutesTo(c, cand.privateAddress), { timeoutMs: ROLLING_WAITS.haproxy * 1000, intervalMs: 250, ...w });
  }
  note(run, leader, { kind: 'switchover', to: candidate });
  run.leader = candidate;
  return candidate;
}
