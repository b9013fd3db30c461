import type { NodeConfig } from '../config/model.js';
import { run } from '../remote/shell.js';
import type { SshConnection } from '../ssh/connection.js';
import { psqlQueryCommand } from './psql.js';
import { notYet, ready, type Check } from './wait.js';

/**
 * The cluster's health checks, each one read on a node (never through a port opened to the
 * operator) and answering ready / not yet with the reason. bootstrap, deploy and failover-test
 * wait on them.
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

export const patroniClusterCommand = () => run('curl', '-fsS', '--max-time', '3', 'http://127.0.0.1:8008/cluster');

export async function patroniMembers(conn: SshConnection): Promise<PatroniMember[]> {
  const res = await conn.run(patroniClusterCommand(), { timeoutMs: 10_000 });
  return (JSON.parse(res.stdout) as { members?: PatroniMember[] }).members ?? [];
}

/** A member that holds the leader key and runs. */
export const isLeader = (m: PatroniMember) => (m.role === 'leader' || m.role === 'standby_leader') && m.state === 'running';
const isStreaming = (m: PatroniMember, maxLagBytes: number) =>
  (m.role === 'replica' || m.role === 'sync_standby' || m.role === 'quorum_standby') && m.state === 'streaming' && (typeof m.lag !== 'number' || m.lag <= maxLagBytes);

export function describeMembers(ms: PatroniMember[]): string {
  return ms.length === 0 ? 'no members' : ms.map((m) => `${m.name} ${m.role}/${m.state}`).join(', ');
}

/**
 * etcd: every member answers /health with true — etcd's own check, which needs a leader and a
 * quorum read. Asked from one node to each member's client URL, in one command.
 */
export const etcdHealthCommand = (addresses: readonly string[]) =>
  run('sh', '-c', 'for a in "$@"; do echo "$a $(curl -s --max-time 2 "http://$a:2379/health" | tr -d "\\n")"; done', 'sh', ...addresses);

export async function etcdQuorum(conn: SshConnection, members: readonly NodeConfig[]): Promise<Check<string>> {
  const res = await conn.exec(etcdHealthCommand(members.map((m) => m.privateAddress)), { timeoutMs: 20_000 });
  const healthy = new Set<string>();
  for (const line of res.stdout.split('\n')) {
    const space = line.indexOf(' ');
    try {
      if (space > 0 && String((JSON.parse(line.slice(space + 1)) as { health?: unknown }).health) === 'true') healthy.add(line.slice(0, space));
    } catch {
      /* no answer from that member */
    }
  }
  const sick = members.filter((m) => !healthy.has(m.privateAddress)).map((m) => m.name);
  if (sick.length === 0) return ready(`${members.length} of ${members.length} members healthy`);
  return notYet(`etcd not healthy on ${sick.join(', ')}`);
}

/** Patroni: this cluster has a running leader; returns its name. */
export async function patroniLeader(conn: SshConnection): Promise<Check<string>> {
  const ms = await patroniMembers(conn);
  const leaders = ms.filter(isLeader);
  if (leaders.length === 1) return ready(leaders[0]!.name);
  return notYet(leaders.length > 1 ? `two leaders: ${describeMembers(ms)}` : `no leader yet (${describeMembers(ms)})`);
}

/** Patroni: one leader and every other expected member streaming with lag under the limit. */
export async function patroniStreaming(conn: SshConnection, expected: readonly string[], maxLagBytes = 1024 * 1024): Promise<Check<PatroniMember[]>> {
  const ms = await patroniMembers(conn);
  const leaders = ms.filter(isLeader);
  const missing = expected.filter((n) => !ms.some((m) => m.name === n));
  const lagging = ms.filter((m) => !isLeader(m) && !isStreaming(m, maxLagBytes));
  if (leaders.length === 1 && missing.length === 0 && lagging.length === 0) return ready(ms);
  return notYet(`${describeMembers(ms)}${missing.length ? `; not yet a member: ${missing.join(', ')}` : ''}`);
}

/** HAProxy on this node: :5000 reaches a writable primary; returns the address it answered from. */
export async function haproxyRoutesToLeader(conn: SshConnection): Promise<Check<string>> {
  const res = await conn.exec(psqlQueryCommand(5000, 'select pg_is_in_recovery(), inet_server_addr()'), { timeoutMs: 15_000 });
  if (res.code !== 0) return notYet(`:5000 does not answer (${res.stderr.trim().split('\n').at(-1) || `exit ${res.code}`})`);
  const [recovery, addr = ''] = res.stdout.trim().split('|');
  if (recovery !== 'f') return notYet(`:5000 reaches a replica (${addr})`);
  return ready(addr.replace(/\/\d+$/, ''));
}

/** The node whose cluster address is addr (HAProxy's answer), for messages. */
export const nodeByAddress = (nodes: readonly NodeConfig[], addr: string) => nodes.find((n) => n.privateAddress === addr || n.host === addr)?.name ?? addr;
