import { resolve } from 'node:path';
import type { NodeConfig } from '../config/model.js';
import { readInventory, resolveMigrations } from '../config/load.js';
import { DURATION } from '../config/schema.js';
import { runPlan } from '../engine/run.js';
import { EXIT, TwincigoError, UsageError } from '../errors.js';
import { createMigration, readMigrations, shown } from '../migrate/files.js';
import { planUp } from '../migrate/state.js';
import { listNames, statusTable, summarize, summaryLine } from '../migrate/report.js';
import { dbSettings, inspect, tunnelNodes, upPlan, type MigrateTarget, type UpReport } from '../migrate/plan.js';
import { operate, type Operation } from '../session/operation.js';
import { makeUi, requireEnvFile, type GlobalOptions, type Session } from '../session/session.js';

/** Checked before any connection: the env file, and a selected node with HAProxy to tunnel through. */
function tunnelVia(ctx: Session): NodeConfig[] {
  requireEnvFile(ctx);
  const via = tunnelNodes(ctx.config.nodes);
  if (via.length === 0) throw new UsageError(`no selected node of ${ctx.config.env.name} runs HAProxy: migrate connects through one`, ['drop --nodes, or select a node with the haproxy role']);
  return via;
}

function target(op: Operation, via: NodeConfig[]): MigrateTarget {
  const ctx = op.session;
  const m = ctx.config.migrations;
  return {
    pool: op.pool,
    via,
    nodes: ctx.config.env.nodes,
    settings: dbSettings(m, ctx.values.values[m.passwordKey], op.by),
    onSkip: (node, why) => ctx.ui.warn(`${node}: no connection to the leader (${why}); trying the next node`),
  };
}

/** --dir overrides the inventory's migrations.dir (relative to the current directory). */
function withDir(ctx: Session, dir: string | undefined): Session {
  if (dir !== undefined) ctx.config.migrations = { ...ctx.config.migrations, dir: resolve(dir) };
  return ctx;
}


/** `twincigo migrate status`: applied, pending, changed; exit 1 when an applied file was changed. */
export async function migrateStatus(ctx: Session, dir: string | undefined): Promise<number> {
  withDir(ctx, dir);
  const files = readMigrations(ctx.config.migrations.dir);
  const via = tunnelVia(ctx);
  return operate(ctx, async (op) => {
    const { db, status } = await inspect(target(op, via), files);
    const summary = summarize(status);
    ctx.ui.json({ ok: summary.changed === 0, environment: ctx.config.env.name, dir: ctx.config.migrations.dir, leader: db.leader, via: db.via, summary, migrations: status });
    ctx.ui.print([`migrations in ${shown(ctx.config.migrations.dir)} on ${ctx.config.env.name} (leader ${db.leader}, via ${db.via}):`, statusTable(status), summaryLine(summary)].join('\n'));
    if (summary.missing > 0) ctx.ui.warn(`${summary.missing} applied migration${summary.missing === 1 ? ' is' : 's are'} no longer in ${shown(ctx.config.migrations.dir)}`);
    return summary.changed > 0 ? EXIT.failed : EXIT.ok;
  });
}

export interface UpFlags {
  to?: string | undefined;
  dryRun: boolean;
  lockWait: number;
  lockTimeout?: string | undefined;
  statementTimeout?: string | undefined;
}

function parseTo(to: string | undefined, versions: number[]): number | undefined {
  if (to === undefined) return undefined;
  if (!/^\d+$/.test(to)) throw new UsageError(`--to ${to}: must be a migration version, e.g. --to 0004`);
  const n = Number(to);
  if (!versions.includes(n)) throw new UsageError(`--to ${to}: no migration file has version ${n}`, [`versions: ${versions.length ? versions.join(', ') : '(none)'}`]);
  return n;
}

/** `twincigo migrate up [--to N] [--dry-run]`. */
export async function migrateUp(ctx: Session, dir: string | undefined, f: UpFlags): Promise<number> {
  withDir(ctx, dir);
  const env = ctx.config.env;
  const m = ctx.config.migrations;
  for (const [flag, v] of [['--lock-timeout', f.lockTimeout], ['--statement-timeout', f.statementTimeout]] as const) {
    if (v !== undefined && !DURATION.test(v)) throw new UsageError(`${flag} ${v}: must be a PostgreSQL duration, e.g. 5s, 500ms, 15min`);
  }
  const files = readMigrations(m.dir);
  const to = parseTo(f.to, files.map((x) => x.version));
  const via = tunnelVia(ctx);
  if (f.dryRun) return operate(ctx, (op) => dryRun(ctx, target(op, via), files, to));
  return operate(ctx, async (op) => {
    const t = target(op, via);
    const out: UpReport = { applied: [], skippedApplied: 0 };
    const o = { to, lockWaitMs: f.lockWait * 1000, by: op.by, lockTimeout: f.lockTimeout ?? m.lockTimeout, statementTimeout: f.statementTimeout ?? m.statementTimeout, onLockWait: (h: string) => ctx.ui.info(`waiting for the migration lock held by ${h} …`) };
    const result = await runPlan(upPlan(t, files, o, out), { nodes: env.nodes, mode: ctx.renderMode, signal: op.signal });
    if (out.applied.length > 0 || out.failure) {
      const detail = [out.applied.length ? `applied ${listNames(out.applied)}` : '', out.failure ? `failed ${out.failure.migration.id}_${out.failure.migration.name}` : ''].filter(Boolean).join('; ');
      await op.audit('migrate up', result.ok ? 'ok' : result.interrupted ? 'interrupted' : 'failed', detail);
    }
    if (!result.ok) {
      const before = out.applied.length ? [`applied before it, and recorded: ${listNames(out.applied)}`] : [];
      if (out.refused) throw new TwincigoError(`migrate up refused: nothing was applied\n${out.refused.map((r) => `  - ${r}`).join('\n')}`, EXIT.failed);
      if (out.failure) throw new TwincigoError(out.failure.message, EXIT.failed, before);
      if (out.error && !result.interrupted) throw out.error;
      if (result.interrupted) throw new TwincigoError(`interrupted: ${result.error ?? ''}`.trim(), EXIT.interrupted, [...before, 'a migration in progress was rolled back with its connection; run migrate up again']);
      throw new TwincigoError(result.error ?? 'migrate up failed', EXIT.failed, before);
    }
    ctx.ui.json({ ok: true, environment: env.name, leader: out.leader, via: out.via, alreadyApplied: out.skippedApplied, applied: out.applied });
    ctx.ui.print(
      out.applied.length === 0
        ? `${env.name}: nothing to apply (${out.skippedApplied} applied already; leader ${out.leader})`
        : `${env.name}: applied ${out.applied.length} migration${out.applied.length === 1 ? '' : 's'} on leader ${out.leader} in ${(result.durationMs / 1000).toFixed(1)}s: ${listNames(out.applied)}`,
    );
    return EXIT.ok;
  }, { guard: `migrate up changes the ${env.name} database.` });
}

async function dryRun(ctx: Session, t: MigrateTarget, files: ReturnType<typeof readMigrations>, to: number | undefined): Promise<number> {
  const { db, status } = await inspect(t, files);
  const { apply, refusals } = planUp(status, to);
  ctx.ui.json({ ok: refusals.length === 0, dryRun: true, environment: ctx.config.env.name, leader: db.leader, via: db.via, wouldApply: apply, refused: refusals });
  const lines = [`dry run on ${ctx.config.env.name} (leader ${db.leader}, via ${db.via}): nothing is changed`];
  if (refusals.length > 0) lines.push('migrate up would refuse, applying nothing:', ...refusals.map((r) => `  - ${r}`));
  else if (apply.length === 0) lines.push('nothing to apply');
  else lines.push(`would apply ${apply.length}, in this order, each in its own transaction unless marked:`, ...apply.map((a) => `  ${a.id}_${a.name}${a.transactional === false ? '  (no transaction)' : ''}`));
  ctx.ui.print(lines.join('\n'));
  return refusals.length > 0 ? EXIT.failed : EXIT.ok;
}

/** `twincigo migrate create NAME`: the next numbered file; no environment or node involved. */
export function migrateCreate(g: GlobalOptions, dir: string | undefined, name: string, noTransaction: boolean): number {
  const ui = makeUi(g);
  const file = createMigration(dir ? resolve(dir) : resolveMigrations(readInventory(g.config)).dir, name, noTransaction);
  ui.json({ ok: true, file });
  ui.print(`created ${shown(file)}`);
  return EXIT.ok;
}
