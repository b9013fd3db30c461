import { execIn } from '../remote/compose.js';
import type { SshConnection } from '../ssh/connection.js';
import { TwincigoError } from '../errors.js';

export interface PsqlResult {
  stdout: string;
  /** WARNING and NOTICE lines, e.g. optional extensions that were skipped. */
  notices: string[];
}

/**
 * Runs a SQL script with psql inside the node's patroni container, connected through the node's
 * HAProxy :5000 — so it always reaches the current leader. The script goes over stdin and the
 * password comes from the container's own environment: no secret on any command line.
 */
export async function psqlViaHaproxy(conn: SshConnection, sql: string, timeoutMs = 120_000): Promise<PsqlResult> {
  const script = 'PGPASSWORD="$PATRONI_SUPERUSER_PASSWORD" exec psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5000 -U postgres -d postgres -f -';
  const res = await conn.exec(execIn('patroni', ['sh', '-c', script], { stdin: true }), { stdin: sql, timeoutMs });
  const notices = res.stderr
    .split('\n')
    .map((l) => /(?:WARNING|NOTICE):\s+(.*)$/.exec(l)?.[1])
    .filter((l): l is string => Boolean(l));
  if (res.code !== 0) {
    const err = res.stderr.split('\n').filter((l) => /ERROR|FATAL|psql:/.test(l)).slice(-3).join('; ') || res.stderr.trim();
    throw new TwincigoError(`${conn.target.label}: SQL failed through HAProxy :5000 — ${err}`);
  }
  return { stdout: res.stdout, notices };
}

/**
 * One query through the node's HAProxy (5000 → leader, 5001 → replicas) or to the node's own
 * PostgreSQL (5432), unaligned output; exit code and stderr returned as they are: a health check
 * decides what a failure means.
 */
export function psqlQueryCommand(port: 5000 | 5001 | 5432, query: string) {
  const script = 'PGPASSWORD="$PATRONI_SUPERUSER_PASSWORD" PGCONNECT_TIMEOUT=3 exec psql -X -At -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2"';
  return execIn('patroni', ['sh', '-c', script, 'sh', String(port), query]);
}
