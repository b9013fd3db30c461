import { restorePlan, type RestoreResult } from '../backup/restore-plan.js';
import { checkTarget, describeTarget, parseTarget, restoreOptions, type RestoreTarget } from '../backup/target.js';
import { findLeader } from '../cluster/patroni.js';
import type { NodeConfig } from '../config/model.js';
import { runPlan } from '../engine/run.js';
import { EXIT, TwincigoError, UsageError } from '../errors.js';
import { parseRestoreOutput, restoreCommand } from '../remote/restore.js';
import type { SshPool } from '../ssh/pool.js';
import type { Session } from '../session/session.js';
import { operate } from '../session/operation.js';
import { readInfo, repoIndex, repository } from './backup.js';

/** --to asked on a TTY (checked as it is typed), else the flag named. */
export function askTarget(ctx: Session): Promise<string> {
  return ctx.ui.ask('Restore to which point (a time with its zone, a backup label from `backup list`, or latest)?', '--to', {
    validate: (v) => {
      try {
        parseTarget(v);
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
}

const patroniNodes = (ctx: Session) => ctx.config.env.nodes.filter((n) => n.roles.includes('patroni'));
const secs = (ms: number | null | undefined) => (ms == null ? null : Math.round(ms / 100) / 10);

/** Every database node answers over SSH (a restore re-clones them all), else what to fix. */
async function reachAll(pool: SshPool, nodes: NodeConfig[]): Promise<void> {
  const down: string[] = [];
  await Promise.all(nodes.map((n) => pool.get(n).catch((e: Error) => down.push(`${n.name} (${e.message.split('\n')[0]})`))));
  if (down.length) throw new TwincigoError(`a restore needs every database node, and these do not answer over SSH: ${down.join(', ')}`, 1, ['bring them back (or replace them: twincigo node replace) and run restore again; nothing was changed']);
}

/**
 * `twincigo restore --to <time|latest|label>`: the whole cluster back to a point, under the
 * environment's lock — see restorePlan for the steps. Everything is checked (target, repository,
 * nodes) before the first member is stopped.
 */
export function restore(ctx: Session, o: { to: string; repo?: string | undefined; lockWaitSec: number }): Promise<number> {
  const env = ctx.config.env;
  const target = parseTarget(o.to);
  const repo = repoIndex(ctx, o.repo);
  repository(ctx);
  const command = `restore --to ${o.to}`;
  return operate(ctx, (op) =>
    op.locked(command, o.lockWaitSec, async () => {
      const info = await readInfo(op.pool, ctx);
      checkTarget(target, info, new Date(), repo);
      const nodes = patroniNodes(ctx);
      await reachAll(op.pool, nodes);
      const leaderBefore = await findLeader(op.pool, nodes);
      const primary = leaderBefore ?? nodes[0]!;
      if (!(await ctx.ui.confirm(`Replace the data of every member of ${env.name} with ${describeTarget(target)}? Writes after it are lost.`))) {
        throw new UsageError('nothing was done');
      }
      await op.audit(command, 'started', `on ${primary.name}`);
      const out: RestoreResult = {};
      const res = await runPlan(restorePlan(op.pool, { env, target, primary, replicas: nodes.filter((n) => n !== primary), leaderBefore, repo }, out), { nodes: env.nodes, mode: ctx.renderMode, signal: op.signal });
      if (!res.ok) {
        await op.audit(command, res.interrupted ? 'interrupted' : 'failed', res.error ?? '');
        throw new TwincigoError(`${res.interrupted ? 'interrupted' : 'the restore failed'} in "${res.failedPhase ?? '?'}": ${res.error ?? ''}`, 1, [
          'the members stopped so far stay stopped, no Patroni takes over with the old data; fix the cause and run the same restore again — it starts over from the repository',
        ]);
      }
      const o2 = out.output!;
      const report = {
        environment: env.name,
        target: target.kind === 'time' ? target.at.toISOString() : target.kind === 'label' ? target.label : 'latest',
        leader: primary.name,
        timeline: o2.timeline,
        archivedBeforeRestore: out.archivedBefore ?? false,
        filesSeconds: secs(o2.restoredMs),
        recoverySeconds: secs((o2.startedMs ?? 0) - (o2.restoredMs ?? 0)),
        durationSeconds: secs(res.durationMs),
        recovery: o2.log,
      };
      await op.audit(command, 'ok', `leader ${primary.name}, timeline ${o2.timeline}, ${report.durationSeconds}s`);
      ctx.ui.json(report);
      ctx.ui.print(`${env.name} restored to ${describeTarget(target)} in ${report.durationSeconds} s: ${primary.name} leads on timeline ${o2.timeline}, every replica streaming, archiving on.\n${o2.log.map((l) => `  ${l}`).join('\n')}`);
      return EXIT.ok;
    }),
  { guard: `restore replaces every member's data of ${env.name}.` });
}

/**
 * `twincigo restore-test`: the drill that proves a backup restores — the backup and the WAL after
 * it restored into a scratch container on a node that does not lead, started, asked a question,
 * measured, removed. Nothing reaches the repository (archiving off) and nothing listens on a port.
 */
export function restoreTest(ctx: Session, o: { to: string; repo?: string | undefined; lockWaitSec: number }): Promise<number> {
  const env = ctx.config.env;
  const target: RestoreTarget = parseTarget(o.to);
  const repo = repoIndex(ctx, o.repo);
  repository(ctx);
  return operate(ctx, (op) =>
    op.locked('restore-test', o.lockWaitSec, async () => {
      const info = await readInfo(op.pool, ctx);
      checkTarget(target, info, new Date(), repo);
      const nodes = patroniNodes(ctx);
      const leader = await findLeader(op.pool, nodes);
      // a node that does not lead: the drill's disk and CPU stay off the primary
      const node = nodes.find((n) => n !== leader) ?? nodes[0];
      if (!node) throw new TwincigoError(`${env.name} has no database node to restore on`);
      const need = Math.max(...info.backups.map((b) => b.databaseBytes)) * 1.2;
      ctx.ui.info(`restoring ${describeTarget(target)} into a scratch container on ${node.name} …`);
      const conn = await op.pool.get(node);
      const started = performance.now();
      const res = await conn.exec(restoreCommand('scratch', env.baseDir, restoreOptions(target, repo), need), { timeoutMs: 6 * 3600_000, signal: op.signal, onStderr: (l) => ctx.ui.debug(l.trimEnd()) });
      const o2 = parseRestoreOutput(res.stdout);
      const ok = res.code === 0 && o2.startedMs !== null;
      const error = ok ? null : (res.stderr + res.stdout).split('\n').filter((l) => /ERROR|FATAL|stopped during|PANIC/.test(l)).slice(-4).join('; ') || res.stderr.trim().split('\n').slice(-3).join('; ') || `exit ${res.code}`;
      const report = {
        environment: env.name, node: node.name, target: o.to, repo: repo ?? null, ok, error,
        backup: info.backups.filter((b) => !repo || b.repo === repo).at(-1)!.label,
        filesSeconds: secs(o2.restoredMs), startSeconds: secs(o2.startedMs !== null && o2.restoredMs !== null ? o2.startedMs - o2.restoredMs : null),
        durationSeconds: secs(performance.now() - started),
        answer: ok ? { timeline: o2.timeline, databaseBytes: o2.databaseBytes, userTables: o2.userTables } : null,
        recovery: o2.log,
      };
      await op.audit('restore-test', ok ? 'passed' : 'failed', ok ? `${node.name}, ${report.durationSeconds}s` : error!);
      ctx.ui.json(report);
      ctx.ui.print(ok
        ? `restore-test passed on ${node.name}: ${describeTarget(target)} restored in ${report.filesSeconds} s, recovered and answering in ${report.startSeconds} s (${((o2.databaseBytes ?? 0) / 1048576).toFixed(0)} MB, ${o2.userTables} user tables); scratch container removed`
        : `restore-test FAILED on ${node.name}: ${error}`);
      return ok ? EXIT.ok : EXIT.failed;
    }),
  );
}
