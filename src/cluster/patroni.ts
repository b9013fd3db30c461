import type { NodeConfig } from '../config/model.js';
import { run } from '../remote/shell.js';
import type { SshConnection } from '../ssh/connection.js';
import { TwincigoError } from '../errors.js';
import { parseApiResponse, patroniApiCommand } from './patroni-api.js';
import { notYet, ready, type Check } from './wait.js';

/**
 * What twincigo knows about Patroni, in one place: its members and their roles, who leads, who may
 * take over, how far behind a replica may be, asking "any node" for the cluster, and the planned
 * leader change. deploy, switchover, failover-test, exec, bootstrap and status use it.
 */

export interface PatroniMember {
  name: string;
  role: string;
  state: string;
  host?: string;
  timeline?: number;
  lag?: number | string;
  /** PostgreSQL parameters changed that need a restart of this member. */
  pending_restart?: boolean;
}

/** A replica further behind than this cannot be promoted (Patroni's maximum_lag_on_failover, which we set to it). */
export const FAILOVER_MAX_LAG = 1024 * 1024;

/** Patroni's leader roles (a standby cluster's leader follows another cluster). */
export const isLeaderRole = (role: string | null | undefined): boolean => role === 'leader' || role === 'standby_leader';
export const isReplicaRole = (role: string | null | undefined): boolean => role === 'replica' || role === 'sync_standby' || role === 'quorum_standby';

/** A member that holds the leader key and runs. */
export const isLeader = (m: PatroniMember): boolean => isLeaderRole(m.role) && m.state === 'running';

/** A replica that streams, within the lag limit. */
export const isStreaming = (m: PatroniMember, maxLagBytes = FAILOVER_MAX_LAG): boolean =>
  isReplicaRole(m.role) && m.state === 'streaming' && (typeof m.lag !== 'number' || m.lag <= maxLagBytes);

/** The running leader's name, when there is exactly one. */
export function leaderName(ms: readonly PatroniMember[]): string | undefined {
  const leaders = ms.filter(isLeader);
  return leaders.length === 1 ? leaders[0]!.name : undefined;
}

export function describeMembers(ms: readonly PatroniMember[]): string {
  return ms.length === 0 ? 'no members' : ms.map((m) => `${m.name} ${m.role}/${m.state}`).join(', ');
}

export const patroniClusterCommand = () => run('curl', '-fsS', '--max-time', '3', 'http://127.0.0.1:8008/cluster');

/** The members, as this node's Patroni sees them. */
export async function patroniMembers(conn: SshConnection): Promise<PatroniMember[]> {
  const res = await conn.run(patroniClusterCommand(), { timeoutMs: 10_000 });
  return (JSON.parse(res.stdout) as { members?: PatroniMember[] }).members ?? [];
}

/** The members, from the first Patroni node that answers (a node down is not the cluster down). */
export async function membersFromAny(pool: { get(n: NodeConfig): Promise<SshConnection> }, nodes: readonly NodeConfig[]): Promise<{ members: PatroniMember[]; from: NodeConfig }> {
  for (const n of nodes.filter((x) => x.roles.includes('patroni'))) {
    try {
      return { members: await patroniMembers(await pool.get(n)), from: n };
    } catch {
      /* ask the next node */
    }
  }
  throw new TwincigoError('no Patroni node answered over SSH');
}

/** The node of the running leader, asking one Patroni node after the other until one knows it; undefined when none does. */
export async function findLeader(pool: { get(n: NodeConfig): Promise<SshConnection> }, nodes: readonly NodeConfig[]): Promise<NodeConfig | undefined> {
  for (const n of nodes.filter((x) => x.roles.includes('patroni'))) {
    try {
      const leader = (await patroniMembers(await pool.get(n))).find(isLeader);
      if (leader) return nodes.find((x) => x.name === leader.name);
    } catch {
      /* ask the next node */
    }
  }
  return undefined;
}

/** Patroni: this cluster has a running leader; returns its name. */
export async function patroniLeader(conn: SshConnection): Promise<Check<string>> {
  const ms = await patroniMembers(conn);
  const leaders = ms.filter(isLeader);
  if (leaders.length === 1) return ready(leaders[0]!.name);
  return notYet(leaders.length > 1 ? `two leaders: ${describeMembers(ms)}` : `no leader yet (${describeMembers(ms)})`);
}

/** Patroni: the leader is `want` (or, with `not`, anyone but it). */
export async function leaderIs(conn: SshConnection, want: { name: string } | { not: string }): Promise<Check<string>> {
  const l = await patroniLeader(conn);
  if (!l.ready) return l;
  const ok = 'name' in want ? l.value === want.name : l.value !== want.not;
  return ok ? l : notYet('name' in want ? `leader ${l.value}` : `still ${l.value}`);
}

/** Patroni: one leader and every other expected member streaming with lag under the limit. */
export async function patroniStreaming(conn: SshConnection, expected: readonly string[], maxLagBytes = FAILOVER_MAX_LAG): Promise<Check<PatroniMember[]>> {
  const ms = await patroniMembers(conn);
  const leaders = ms.filter(isLeader);
  const missing = expected.filter((n) => !ms.some((m) => m.name === n));
  const lagging = ms.filter((m) => !isLeader(m) && !isStreaming(m, maxLagBytes));
  if (leaders.length === 1 && missing.length === 0 && lagging.length === 0) return ready(ms);
  return notYet(`${describeMembers(ms)}${missing.length ? `; not yet a member: ${missing.join(', ')}` : ''}`);
}

/** A planned leader change, asked on the leader's own node (POST /switchover); Patroni's message, or an error saying why it refused. */
export async function requestSwitchover(conn: SshConnection, leader: string, candidate: string | undefined, timeoutMs: number): Promise<string> {
  const res = parseApiResponse((await conn.run(patroniApiCommand('POST', '/switchover', candidate ? { leader, candidate } : { leader }), { timeoutMs })).stdout);
  const message = res.body.split('\n').join(' ').trim();
  if (res.status !== 200) throw new TwincigoError(`Patroni refused the switchover ${leader} → ${candidate ?? 'a replica'} (HTTP ${res.status}): ${message}`);
  return message;
}
