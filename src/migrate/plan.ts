import type { MigrationsConfig, NodeConfig } from '../config/model.js';
import type { OnceStep, Plan } from '../engine/types.js';
import { TwincigoError } from '../errors.js';
import type { SshPool } from '../ssh/pool.js';
import { MigrationError, applyMigration, type ApplyOptions } from './apply.js';
import { connectAny, type DbConnection, type DbSettings } from './connect.js';
import type { Migration } from './files.js';
import { UNLOCK_SQL, acquireMigrationLock } from './lock.js';
import { APPLIED_SQL, ENSURE_TRACKING_SQL, TRACKING_EXISTS_SQL, compareState, planUp, rowFromDb, type MigrationStatus } from './state.js';

export interface MigrateTarget {
  pool: SshPool;
  /** Nodes to tunnel through, in the order they are tried (those running HAProxy). */
  via: NodeConfig[];
  /** Every node of the environment, to name the leader by its address. */
  nodes: NodeConfig[];
  settings: DbSettings;
  onSkip: (node: string, why: string) => void;
}

export function tunnelNodes(nodes: readonly NodeConfig[]): NodeConfig[] {
  return nodes.filter((n) => n.roles.includes('haproxy'));
}

export function dbSettings(m: MigrationsConfig, password: string | undefined, by: string): DbSettings {
  if (!password) throw new TwincigoError(`the env file has no ${m.passwordKey}: migrate connects as ${m.user} with it`, 2, ['set it in the env file, or migrations.passwordKey in twincigo.yml']);
  return { database: m.database, user: m.user, password, applicationName: `twincigo migrate: ${by}`, connectTimeoutMs: 10_000 };
}

/** The applied rows (none when the tracking table does not exist yet: nothing is created to read). */
export async function readStatus(db: DbConnection, files: Migration[]): Promise<MigrationStatus[]> {
  const exists = (await db.client.query<{ exists: boolean }>(TRACKING_EXISTS_SQL)).rows[0]?.exists;
  const rows = exists ? (await db.client.query(APPLIED_SQL)).rows.map(rowFromDb) : [];
  return compareState(files, rows);
}

/** `migrate status` and `up --dry-run`: one connection, read only, no lock. */
export async function inspect(t: MigrateTarget, files: Migration[]): Promise<{ db: Pick<DbConnection, 'via' | 'leader'>; status: MigrationStatus[] }> {
  const db = await connectAny(t.pool, t.via, t.nodes, t.settings, t.onSkip);
  try {
    return { db: { via: db.via, leader: db.leader }, status: await readStatus(db, files) };
  } finally {
    await db.client.end().catch(() => undefined);
  }
}

export interface UpOptions extends ApplyOptions {
  to?: number | undefined;
  lockWaitMs: number;
  onLockWait: (holder: string) => void;
}

export interface UpReport {
  via?: string;
  leader?: string;
  applied: { version: number; id: string; name: string; durationMs: number }[];
  skippedApplied: number;
  /** The migration that failed, with file:line and the server's message. */
  failure?: MigrationError;
  /** Why nothing was applied (changed or out-of-order files). */
  refused?: string[];
  /** A connect or lock failure, kept whole (its hints say what to do). */
  error?: TwincigoError;
}

/** Keeps an operator-facing error for the report, then lets the engine fail the step. */
async function keeping<T>(out: UpReport, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TwincigoError) out.error = err;
    throw err;
  }
}

/**
 * `migrate up`: connect through the first node that reaches the leader, take the migration lock,
 * make sure the tracking table exists, read the state (refusing drifted or out-of-order files
 * before anything is applied), then apply the pending migrations one by one, in version order.
 */
export function upPlan(t: MigrateTarget, files: Migration[], o: UpOptions, out: UpReport): Plan<NodeConfig> {
  const u: Up = { t, files, o, out, st: { pending: [] } };
  return {
    title: `migrate up${o.to !== undefined ? ` --to ${o.to}` : ''}: ${files.length} migration file${files.length === 1 ? '' : 's'}`,
    phases: [{ title: 'Migrate', then: [connectStep(u), lockStep(u), trackingStep(u), applyStep(u)] }],
  };
}

/** What the steps of `migrate up` share. */
interface Up {
  t: MigrateTarget;
  files: Migration[];
  o: UpOptions;
  out: UpReport;
  st: { db?: DbConnection; pending: Migration[] };
}

const connectStep = ({ t, out, st }: Up): OnceStep => ({
  title: 'connect to the leader through HAProxy :5000 over SSH',
  timeoutMs: 60_000,
  run: async ({ onCleanup }) => {
    const db = (st.db = await keeping(out, () => connectAny(t.pool, t.via, t.nodes, t.settings, t.onSkip)));
    onCleanup('close the database connection', async () => {
      await db.client.end().catch(() => undefined);
    });
    out.via = db.via;
    out.leader = db.leader;
    return `leader ${db.leader} via ${db.via}`;
  },
});

const lockStep = ({ o, out, st }: Up): OnceStep => ({
  title: 'migration lock (PostgreSQL advisory lock)',
  timeoutMs: o.lockWaitMs + 30_000,
  run: async ({ onCleanup, signal, log }) => {
    const db = st.db!;
    await keeping(out, () =>
      acquireMigrationLock(db.client, o.lockWaitMs, (h) => {
        log(`waiting for ${h}`);
        o.onLockWait(h);
      }, signal),
    );
    onCleanup('release the migration lock', async () => {
      if (!db.lost) await db.client.query(UNLOCK_SQL).catch(() => undefined);
    });
    return 'held';
  },
});

const trackingStep = ({ files, o, out, st }: Up): OnceStep => ({
  title: 'tracking table and checksums',
  timeoutMs: 60_000,
  run: async () => {
    await st.db!.client.query(ENSURE_TRACKING_SQL);
    const status = await readStatus(st.db!, files);
    const { apply, refusals } = planUp(status, o.to);
    if (refusals.length > 0) {
      out.refused = refusals;
      throw new TwincigoError(`nothing applied: ${refusals.length} problem${refusals.length === 1 ? '' : 's'}`);
    }
    const wanted = new Set(apply.map((s) => s.version));
    st.pending = files.filter((f) => wanted.has(f.version));
    out.skippedApplied = status.filter((s) => s.state === 'applied').length;
    return `${out.skippedApplied} applied, ${st.pending.length} to apply`;
  },
});

const applyStep = ({ o, out, st }: Up): OnceStep => ({
  title: 'apply pending migrations',
  // each statement has its own statement_timeout; this bounds the run, not a migration
  timeoutMs: 24 * 3600_000,
  skip: () => (st.pending.length === 0 ? 'nothing to apply' : false),
  run: async ({ log, signal }) => {
    const db = st.db!;
    for (const [i, m] of st.pending.entries()) {
      signal.throwIfAborted();
      try {
        const ms = await applyMigration(db.client, m, o);
        out.applied.push({ version: m.version, id: m.id, name: m.name, durationMs: ms });
        log(`${m.id}_${m.name} ${ms} ms (${i + 1}/${st.pending.length})`);
      } catch (err) {
        if (!(err instanceof MigrationError)) throw err;
        out.failure = err;
        if (err.connectionLost) db.lost = err;
        throw new TwincigoError(err.message.split('\n')[0]!);
      }
    }
    return `${st.pending.length} applied`;
  },
});
