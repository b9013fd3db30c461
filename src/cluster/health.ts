import type { NodeConfig } from '../config/model.js';
import { run } from '../remote/shell.js';
import type { SshConnection } from '../ssh/connection.js';
import { psqlQueryCommand } from './psql.js';
import { notYet, ready, type Check } from './wait.js';

/**
 * The cluster's health checks, each one read on a node (never through a port opened to the
 * operator) and answering ready / not yet with the reason. bootstrap, deploy and failover-test
 * wait on them. Patroni's own checks live in patroni.ts.
 */

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

/** HAProxy on this node: :5000 reaches a writable primary; returns the address it answered from. */
export async function haproxyRoutesToLeader(conn: SshConnection): Promise<Check<string>> {
  const res = await conn.exec(psqlQueryCommand(5000, 'select pg_is_in_recovery(), inet_server_addr()'), { timeoutMs: 15_000 });
  if (res.code !== 0) return notYet(`:5000 does not answer (${res.stderr.trim().split('\n').at(-1) || `exit ${res.code}`})`);
  const [recovery, addr = ''] = res.stdout.trim().split('|');
  if (recovery !== 'f') return notYet(`:5000 reaches a replica (${addr})`);
  return ready(addr.replace(/\/\d+$/, ''));
}

/** HAProxy on this node: :5000 reaches the node whose cluster address is `address`. */
export async function haproxyRoutesTo(conn: SshConnection, address: string): Promise<Check<string>> {
  const r = await haproxyRoutesToLeader(conn);
  return r.ready && r.value !== address ? notYet(`routes to ${r.value}`) : r;
}

/** The node whose cluster address is addr (HAProxy's answer), for messages. */
export const nodeByAddress = (nodes: readonly NodeConfig[], addr: string) => nodes.find((n) => n.privateAddress === addr || n.host === addr)?.name ?? addr;
