import type { Migration } from './files.js';

/**
 * The tracking table, in its own schema: one row per applied migration, written in the same
 * transaction as the migration itself — so a migration is recorded exactly when it is applied.
 */
export const TRACKING_SCHEMA = 'twincigo';
export const TRACKING_TABLE = `${TRACKING_SCHEMA}.schema_migrations`;

export const ENSURE_TRACKING_SQL = [
  `CREATE SCHEMA IF NOT EXISTS ${TRACKING_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${TRACKING_TABLE} (
  version     bigint PRIMARY KEY,
  name        text NOT NULL,
  sha256      text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  applied_by  text NOT NULL,
  duration_ms integer NOT NULL
)`,
].join(';\n');

export const TRACKING_EXISTS_SQL = `SELECT to_regclass('${TRACKING_TABLE}') IS NOT NULL AS exists`;
export const APPLIED_SQL = `SELECT version, name, sha256, applied_at, applied_by, duration_ms FROM ${TRACKING_TABLE} ORDER BY version`;
export const RECORD_SQL = `INSERT INTO ${TRACKING_TABLE} (version, name, sha256, applied_by, duration_ms) VALUES ($1, $2, $3, $4, $5)`;

export interface AppliedRow {
  version: number;
  name: string;
  sha256: string;
  appliedAt: string;
  appliedBy: string;
  durationMs: number;
}

export type MigrationState = 'applied' | 'pending' | 'changed' | 'missing';

export interface MigrationStatus extends Pick<Migration, 'version' | 'id' | 'name'> {
  state: MigrationState;
  /** The file's checksum (pending, applied, changed) or the recorded one (missing). */
  sha256: string;
  transactional?: boolean;
  appliedAt?: string;
  appliedBy?: string;
  durationMs?: number;
  /** Pending but older than the newest applied migration: refused by `up`. */
  outOfOrder?: boolean;
  /** A file with no SQL yet: refused by `up`. */
  empty?: boolean;
}

/** Files against rows: applied, pending, changed since applied, or applied but no longer a file. */
export function compareState(files: Migration[], applied: AppliedRow[]): MigrationStatus[] {
  const rows = new Map(applied.map((r) => [r.version, r]));
  const newestApplied = applied.reduce((max, r) => Math.max(max, r.version), 0);
  const out: MigrationStatus[] = files.map((f) => {
    const row = rows.get(f.version);
    const base = { version: f.version, id: f.id, name: f.name, sha256: f.sha256, transactional: f.transactional };
    if (!row) return { ...base, state: 'pending', ...(f.version < newestApplied ? { outOfOrder: true } : {}), ...(f.empty ? { empty: true } : {}) };
    return { ...base, state: row.sha256 === f.sha256 ? 'applied' : 'changed', appliedAt: row.appliedAt, appliedBy: row.appliedBy, durationMs: row.durationMs };
  });
  const fileVersions = new Set(files.map((f) => f.version));
  for (const r of applied) {
    if (!fileVersions.has(r.version)) {
      out.push({ version: r.version, id: String(r.version).padStart(4, '0'), name: r.name, state: 'missing', sha256: r.sha256, appliedAt: r.appliedAt, appliedBy: r.appliedBy, durationMs: r.durationMs });
    }
  }
  return out.sort((a, b) => a.version - b.version);
}

export function rowFromDb(r: Record<string, unknown>): AppliedRow {
  const at = r.applied_at;
  return {
    version: Number(r.version),
    name: String(r.name),
    sha256: String(r.sha256),
    appliedAt: at instanceof Date ? at.toISOString() : String(at),
    appliedBy: String(r.applied_by),
    durationMs: Number(r.duration_ms),
  };
}

/** What `up [--to N]` would apply, or why it refuses to apply anything. */
export function planUp(status: MigrationStatus[], to?: number): { apply: MigrationStatus[]; refusals: string[] } {
  const refusals: string[] = [];
  for (const s of status) {
    if (s.state === 'changed') {
      refusals.push(`${s.id}_${s.name} was changed after it was applied (${s.appliedAt} by ${s.appliedBy}): its sha256 no longer matches — restore the file as applied and put the change in a new migration`);
    }
    if (s.state === 'pending' && s.outOfOrder) {
      refusals.push(`${s.id}_${s.name} is pending but older than migrations already applied — give it a version after the newest applied one (twincigo migrate create makes one)`);
    }
  }
  const apply = status.filter((s) => s.state === 'pending' && (to === undefined || s.version <= to));
  for (const s of apply) if (s.empty) refusals.push(`${s.id}_${s.name} has no SQL yet — write it, or delete the file`);
  return { apply, refusals };
}
