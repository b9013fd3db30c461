import type { Duplex } from 'node:stream';
import pg from 'pg';
import { TwincigoError, errorMessage } from '../errors.js';
import type { NodeConfig } from '../config/model.js';
import { nodeByAddress } from '../cluster/health.js';
import type { SshConnection } from '../ssh/connection.js';
import type { SshPool } from '../ssh/pool.js';

/**
 * SQL for the operator's machine without a database port open to it: `pg` speaks over an SSH
 * channel (direct-tcpip) from a node to its own HAProxy :5000, which always leads to the current
 * Patroni leader. When a node cannot be reached (SSH, or its HAProxy finds no leader), the next
 * node is tried.
 */
export const HAPROXY_LEADER_PORT = 5000;

export interface DbSettings {
  database: string;
  user: string;
  password: string;
  applicationName: string;
  connectTimeoutMs: number;
}

export interface DbConnection {
  client: pg.Client;
  /** The node whose HAProxy the tunnel goes through. */
  via: string;
  /** The leader the connection reached (from inet_server_addr()). */
  leader: string;
  /** Set when the connection broke while idle (the next query fails with it too). */
  lost?: Error;
}

/** What `pg` needs of a socket, on top of an SSH channel: it is connected already. */
export function socketFromChannel(channel: Duplex): Duplex {
  const s = channel as Duplex & Record<string, unknown>;
  s.setNoDelay = () => s;
  s.setKeepAlive = () => s;
  s.ref = () => s;
  s.unref = () => s;
  s.connect = () => {
    process.nextTick(() => s.emit('connect'));
    return s;
  };
  return s;
}

/** One pg connection through conn's HAProxy :5000; checks that it reached a primary. */
export async function connectThrough(conn: SshConnection, nodes: readonly NodeConfig[], settings: DbSettings): Promise<DbConnection> {
  const channel = await conn.forward('127.0.0.1', HAPROXY_LEADER_PORT);
  const client = new pg.Client({
    stream: () => socketFromChannel(channel) as never,
    host: '127.0.0.1',
    port: HAPROXY_LEADER_PORT,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    application_name: settings.applicationName.slice(0, 63),
    connectionTimeoutMillis: settings.connectTimeoutMs,
  });
  const db: DbConnection = { client, via: conn.target.label, leader: '?' };
  client.on('error', (err) => {
    db.lost = err;
  });
  try {
    await client.connect();
    const res = await client.query<{ addr: string | null; recovery: boolean }>('SELECT host(inet_server_addr()) AS addr, pg_is_in_recovery() AS recovery');
    const row = res.rows[0]!;
    if (row.recovery) throw new TwincigoError(`${conn.target.label}: HAProxy :${HAPROXY_LEADER_PORT} led to a replica, not the leader`);
    db.leader = row.addr ? nodeByAddress(nodes, row.addr) : 'local';
    return db;
  } catch (err) {
    channel.destroy();
    await client.end().catch(() => undefined);
    throw err;
  }
}

/** The first node (in inventory order) through which the leader answers; says why each one before it did not. */
export async function connectAny(pool: SshPool, nodes: readonly NodeConfig[], allNodes: readonly NodeConfig[], settings: DbSettings, onSkip: (node: string, why: string) => void): Promise<DbConnection> {
  const reasons: string[] = [];
  for (const node of nodes) {
    try {
      const conn = await pool.get(node);
      return await connectThrough(conn, allNodes, settings);
    } catch (err) {
      const why = describeConnectError(err);
      reasons.push(`${node.name}: ${why}`);
      onSkip(node.name, why);
    }
  }
  throw new TwincigoError(`no node gave a connection to the leader through HAProxy :${HAPROXY_LEADER_PORT}`, 1, [
    ...reasons,
    'twincigo status shows what is down',
  ]);
}

function describeConnectError(err: unknown): string {
  const msg = errorMessage(err);
  if (/password authentication failed/.test(msg)) return `${msg} (the password comes from the env file's POSTGRES_PASSWORD, or migrations.passwordKey)`;
  if (/Connection terminated|timeout expired|ECONNRESET/.test(msg)) return `${msg} (HAProxy found no leader, or PostgreSQL is not accepting connections)`;
  return msg;
}
