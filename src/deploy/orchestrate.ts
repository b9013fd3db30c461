import type { Operation } from '../session/operation.js';
import type { Session } from '../session/session.js';
import type { NodeConfig } from '../config/model.js';
import { assertSucceeded, runPlan } from '../engine/run.js';
import { EXIT, TwincigoError } from '../errors.js';
import type { NodeBundle } from '../stack/bundle.js';
import { applyPlan } from './apply.js';
import { describeNode, hasChanges } from './changes.js';
import { describeDone, isRestart, type DeployRun } from './deploy-run.js';
import { parseFiles, readFilesCommand } from './inspect.js';
import { describePatch } from './patroni-dcs.js';
import { preparePlan } from './prepare.js';
import { discardCommand, releaseId } from './release.js';
import { redactEnvPair, unifiedDiff } from './diff.js';
import { stackChanges } from './stack.js';

export interface DeployOptions {
  dryRun: boolean;
  lockWaitSec: number;
  nodes: NodeConfig[];
  /** A deploy uploads rendered bundles; a rollback activates a release already on the nodes. */
  bundles: NodeBundle[] | null;
  /** A rollback's target release (a deploy makes a new id), per node. */
  targets?: Map<string, string>;
  /** How a rollback's target is named in titles ("previous", or the --to id). */
  releaseId?: string;
  command: 'deploy' | 'rollback';
}

export interface DeployReport {
  ok: boolean;
  environment: string;
  release: string;
  dryRun: boolean;
  leader: string | null;
  nodes: Record<string, { changed: boolean; plan: string; done: string[]; files: { changed: string[]; added: string[]; removed: string[] }; recreate: string[]; reload: string[]; orphans: string[] }>;
  patroniConfig: string[];
  /** Swarm: the stack's services this run updates (or would), and removes. */
  stack: { changed: string[]; removed: string[] } | null;
  restarts: number;
  durationMs: number;
}

/** Prepare (upload, compare), then the dry run's plan and diff, or the lock, the apply plan, the audit line and the report. */
export async function runDeploy(op: Operation, o: DeployOptions): Promise<number> {
  const ctx: Session = op.session;
  const { pool, signal, by } = op;
  const now = new Date();
  const id = o.releaseId ?? releaseId(now);
  const run: DeployRun = {
    env: ctx.config.env, nodes: o.nodes, pool, values: ctx.values,
    meta: { id, createdAt: now.toISOString(), by, command: o.command },
    targets: o.targets ?? new Map(),
    snapshotId: releaseId(new Date(now.getTime() - 1000)),
    bundles: new Map((o.bundles ?? []).map((b) => [b.node, b])),
    changes: new Map(), staged: new Set(), composeFiles: new Map(), dcs: null, leader: null, pendingRestart: [], done: new Map(),
  };
  const mode = ctx.renderMode;
  const started = performance.now();
  const discard = () => Promise.all(o.nodes.map(async (n) => (await pool.get(n)).exec(discardCommand(run.env.baseDir, id)).catch(() => undefined)));
  const prep = await runPlan(preparePlan(run, { upload: o.bundles !== null }), { nodes: o.nodes, mode, signal });
  if (!prep.ok && o.bundles) await discard();
  assertSucceeded(prep);
  if (o.dryRun) {
    const diffs = await fileDiffs(run);
    if (o.bundles) await discard();
    ctx.ui.json({ ...report(run, true, started, true), diffs: Object.fromEntries(diffs) });
    ctx.ui.print(dryRunText(run, diffs));
    return EXIT.ok;
  }
  const anything = o.nodes.some((n) => hasChanges(run.changes.get(n.name)!)) || Object.keys(run.dcs?.patch ?? {}).length > 0 || run.pendingRestart.length > 0 || stackChanges(run) > 0;
  if (!anything) {
    if (o.bundles) await discard();
    return done(ctx, run, report(run, true, started));
  }
  const result = await op.locked(o.command, o.lockWaitSec, () => runPlan(applyPlan(run, { record: o.bundles !== null }), { nodes: o.nodes, mode, signal }));
  // a failed deploy: nodes that did not get the release (and the one rolled back) drop the staged copy
  if (!result.ok && o.bundles) await discard();
  const r = report(run, result.ok, started);
  const outcome = result.interrupted ? 'interrupted' : result.ok ? 'ok' : run.rolledBack || run.stackRolledBack ? 'rolled back' : 'failed';
  await op.audit(`${o.command} ${id}`, outcome, result.ok ? `${r.restarts} restarts` : result.error);
  if (!result.ok && run.rolledBack) {
    const rb = run.rolledBack;
    const raw = run.failure && 'logs' in run.failure ? String((run.failure as { logs: string }).logs) : '';
    const logs = raw ? `\nlast log lines on ${rb.node}:\n${raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split('\n').slice(-15).join('\n')}` : '';
    throw new TwincigoError(`${o.command} ${id} failed on ${rb.node}: ${rb.error}\n${rb.node} was rolled back to ${rb.to}; nodes after it were not changed, nodes before it run ${id} (twincigo rollback returns them)${logs}`, EXIT.failed, [
      'fix the change and deploy again; twincigo releases shows what each node runs',
    ]);
  }
  assertSucceeded(result);
  return done(ctx, run, r);
}

/** The report, as JSON or as the summary. */
function done(ctx: Session, run: DeployRun, r: DeployReport): number {
  ctx.ui.json(r);
  ctx.ui.print(summaryText(run, r));
  return EXIT.ok;
}

function report(run: DeployRun, ok: boolean, started: number, dryRun = false): DeployReport {
  const nodes: DeployReport['nodes'] = {};
  for (const n of run.nodes) {
    const c = run.changes.get(n.name);
    if (!c) continue;
    nodes[n.name] = {
      changed: hasChanges(c), plan: describeNode(c), done: (run.done.get(n.name) ?? []).map(describeDone),
      files: { changed: c.changedFiles, added: c.addedFiles, removed: c.removedFiles },
      recreate: c.recreate, reload: c.reload.map((r) => r.service), orphans: c.orphans,
    };
  }
  const restarts = [...run.done.values()].flat().filter(isRestart).length;
  return {
    ok, environment: run.env.name, release: run.meta.id, dryRun, leader: run.leader, nodes,
    patroniConfig: run.dcs ? describePatch(run.dcs.patch, run.dcs.current) : [], stack: run.stack ? { changed: run.stack.plan.changed, removed: run.stack.plan.removed } : null, restarts, durationMs: Math.round(performance.now() - started),
  };
}

/** Unified diffs of every changed file, per node; .env values of secret keys replaced by a short hash. */
async function fileDiffs(run: DeployRun): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(
    run.nodes.map(async (n) => {
      const c = run.changes.get(n.name)!;
      const paths = [...c.changedFiles, ...c.removedFiles];
      const bundle = run.bundles.get(n.name);
      if (!bundle && paths.length + c.addedFiles.length === 0) return;
      const live = paths.length ? parseFiles((await (await run.pool.get(n)).run(readFilesCommand(run.env.baseDir, paths), { timeoutMs: 30_000 })).stdout) : new Map<string, string>();
      const text: string[] = [];
      for (const p of [...c.changedFiles, ...c.addedFiles, ...c.removedFiles].sort()) {
        const secret = p === '.env' || bundle?.files.find((f) => f.path === p)?.secret;
        const next = bundle?.files.find((f) => f.path === p)?.content;
        const [a, b] = secret ? redactEnvPair(live.get(p), next) : [live.get(p), next];
        text.push(bundle ? unifiedDiff(p, a, b) : `(release on the node) ${p}\n`);
      }
      if (text.length) out.set(n.name, text.join(''));
    }),
  );
  return out;
}

function dryRunText(run: DeployRun, diffs: Map<string, string>): string {
  const lines = [`${run.meta.command} ${run.env.name} --dry-run: release ${run.meta.id} (nothing changed; the staged copy was removed)`];
  if (run.dcs && Object.keys(run.dcs.patch).length) {
    lines.push('', `Patroni cluster config (PATCH /config): ${describePatch(run.dcs.patch, run.dcs.current).join(', ')}`);
    if (run.dcs.restartParameters.length) lines.push(`  ${run.dcs.restartParameters.join(', ')} need a restart: members one at a time, replicas first, leader after a switchover`);
  }
  if (run.stack) lines.push('', `Swarm stack (from ${run.stack.node}): ${stackChanges(run) ? `update ${[...run.stack.plan.changed, ...run.stack.plan.removed.map((r) => `remove ${r}`)].join(', ')} (rolling, start-first)` : 'every service runs this spec'}`);
  for (const n of run.nodes) {
    const c = run.changes.get(n.name)!;
    lines.push('', `${n.name}: ${describeNode(c)}${c.recreate.includes('patroni') ? ' (patroni: in the rolling phase, leader last)' : ''}`);
    const d = diffs.get(n.name);
    if (d) lines.push(d.trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
  }
  return lines.join('\n');
}

function summaryText(run: DeployRun, r: DeployReport): string {
  const changed = Object.entries(r.nodes).filter(([, v]) => v.changed || v.done.length);
  if (changed.length === 0 && r.patroniConfig.length === 0 && !r.stack?.changed.length && !r.stack?.removed.length) return `${run.meta.command} ${run.env.name}: nothing changed — no file, no container restarted`;
  return [
    `${run.meta.command} ${run.env.name}: release ${run.meta.id} live (${r.restarts} restart${r.restarts === 1 ? '' : 's'}, ${(r.durationMs / 1000).toFixed(1)}s)`,
    ...(r.patroniConfig.length ? [`  Patroni config: ${r.patroniConfig.join(', ')}`] : []),
    ...changed.map(([name, v]) => `  ${name}: ${v.done.join('; ') || v.plan}`),
  ].join('\n');
}
