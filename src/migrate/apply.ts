import type pg from 'pg';
import { TwincigoError, errorMessage } from '../errors.js';
import type { Migration } from './files.js';
import { RECORD_SQL } from './state.js';
import type { Statement } from './statements.js';

export interface ApplyOptions {
  /** Recorded as applied_by. */
  by: string;
  /** PostgreSQL interval strings, e.g. "5s", "15min". */
  lockTimeout: string;
  statementTimeout: string;
}

const literal = (v: string) => `'${v.replace(/'/g, "''")}'`;

/**
 * The statements that open a migration: settings a previous file SET are reset, and the default
 * timeouts apply (LOCAL to the transaction, or to the session for a no-transaction file). A
 * migration may SET its own.
 */
export function openingSql(transactional: boolean, o: Pick<ApplyOptions, 'lockTimeout' | 'statementTimeout'>): string {
  return transactional
    ? `BEGIN; RESET ALL; SET LOCAL lock_timeout = ${literal(o.lockTimeout)}; SET LOCAL statement_timeout = ${literal(o.statementTimeout)}`
    : `RESET ALL; SET lock_timeout = ${literal(o.lockTimeout)}; SET statement_timeout = ${literal(o.statementTimeout)}`;
}

/** SQLSTATEs that mean the session is gone (server shutdown in a switchover, connection failure). */
export function isConnectionLoss(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(08|57P)/.test(code);
  return true;
}

/**
 * Applies one migration: in a transaction together with its tracking row (all or nothing), or
 * statement by statement for a no-transaction file, recorded after its last statement. Returns
 * the time it took in ms; throws MigrationError saying where and why it failed.
 */
export async function applyMigration(client: pg.Client, m: Migration, o: ApplyOptions): Promise<number> {
  const started = performance.now();
  let current: Statement | undefined;
  try {
    await client.query(openingSql(m.transactional, o));
    for (const s of m.statements) {
      current = s;
      await client.query(s.sql);
    }
    current = undefined;
    const ms = Math.round(performance.now() - started);
    await client.query(RECORD_SQL, [m.version, m.name, m.sha256, o.by, ms]);
    if (m.transactional) await client.query('COMMIT');
    return ms;
  } catch (err) {
    const lost = isConnectionLoss(err);
    if (m.transactional && !lost) await client.query('ROLLBACK').catch(() => undefined);
    throw new MigrationError(m, current, err, lost);
  }
}

export class MigrationError extends TwincigoError {
  constructor(
    readonly migration: Migration,
    readonly statement: Statement | undefined,
    readonly reason: unknown,
    readonly connectionLost: boolean,
  ) {
    super(describe(migration, statement, reason, connectionLost));
  }
}

/** The file line of a server error: the statement's first line plus the lines before the error position. */
export function errorLine(s: Statement, position: string | undefined): number {
  const pos = Number(position);
  if (!position || !Number.isFinite(pos) || pos < 1) return s.line;
  return s.line + (s.sql.slice(0, pos - 1).match(/\n/g)?.length ?? 0);
}

function describe(m: Migration, s: Statement | undefined, err: unknown, lost: boolean): string {
  const e = err as { code?: string; detail?: string; hint?: string; where?: string; position?: string };
  const line = s ? errorLine(s, e.position) : undefined;
  const at = s ? `${m.display}:${line}` : m.display;
  const lines = [`migration ${m.id}_${m.name} failed at ${at}: ${errorMessage(err)}${e.code && !lost ? ` (SQLSTATE ${e.code})` : ''}`];
  if (e.detail) lines.push(`  detail: ${e.detail}`);
  if (e.hint) lines.push(`  hint: ${e.hint}`);
  if (e.where) lines.push(`  where: ${e.where.split('\n')[0]}`);
  if (s && line !== undefined) {
    const text = s.sql.split('\n')[line - s.line] ?? '';
    lines.push(`  ${line} | ${text.trim().slice(0, 160)}`);
  }
  if (lost) {
    lines.push(
      m.transactional
        ? `the connection to the leader was lost: the server rolls back ${m.id}_${m.name} unless its COMMIT had reached it — either way it is recorded exactly when it was applied`
        : `the connection to the leader was lost: ${m.id}_${m.name} runs without a transaction, so statements before the failing one may be applied (not recorded)`,
    );
    lines.push('run twincigo migrate up again: it applies what is missing');
  } else if (m.transactional) {
    lines.push(`rolled back: nothing of ${m.id}_${m.name} was applied or recorded`);
  } else {
    lines.push(`${m.id}_${m.name} runs without a transaction: the statements before line ${line ?? '?'} stay applied, and it is not recorded — make them safe to re-run (IF NOT EXISTS; drop an INVALID index left by CREATE INDEX CONCURRENTLY) and run again`);
  }
  return lines.join('\n');
}
