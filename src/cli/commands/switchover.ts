import { auditEverywhere, auditLine, operator, withLock } from '../../cluster/lock.js';
import { assertSucceeded, runPlan } from '../../engine/run.js';
import { EXIT, UsageError } from '../../errors.js';
import { prepareSwitchover, switchoverPlan, type SwitchoverReport } from '../../toolbox/switchover.js';
import { createContext, type GlobalOptions } from '../context.js';
import { interruptSignal, sshPool } from '../session.js';

/** `twincigo switchover [--to NODE]`: a planned, measured leader change under the environment's lock. */
export async function switchover(g: GlobalOptions, to: string | undefined, lockWaitSec: number): Promise<number> {
  const ctx = await createContext(g);
  const env = ctx.config.env;
  if (to !== undefined && !env.nodes.some((n) => n.name === to)) {
    throw new UsageError(`no node ${to} in ${env.name}`, [`nodes: ${env.nodes.map((n) => n.name).join(', ')}`]);
  }
  if (env.profile === 'prod' || env.name === 'prod') await ctx.ui.typeToConfirm(`switchover moves the ${env.name} leader.`, env.name);
  const pool = sshPool(ctx);
  const { signal, dispose } = interruptSignal(ctx);
  const by = operator();
  const out: { report?: SwitchoverReport } = {};
  try {
    const target = await prepareSwitchover(pool, env, to);
    const result = await withLock(
      await pool.get(env.nodes[0]!),
      env.baseDir,
      { by, command: `switchover${to ? ` --to ${to}` : ''}`, env: env.name, since: new Date().toISOString() },
      { waitMs: lockWaitSec * 1000, onWait: (h) => ctx.ui.info(`waiting for the lock held by ${h} …`), onReleaseError: (e) => ctx.ui.warn(`lock not released: ${e.message}`) },
      () => runPlan(switchoverPlan(pool, env, target, out), { nodes: env.nodes, mode: ctx.renderMode, signal }),
    );
    const r = out.report;
    const detail = r ? `${r.from} → ${r.to}, write outage ${r.writeOutageSeconds}s` : result.error;
    await auditEverywhere(pool, env.nodes, env.baseDir, auditLine({ by, env: env.name, command: 'switchover', result: result.ok ? 'ok' : result.interrupted ? 'interrupted' : 'failed', detail }), (m) => ctx.ui.warn(m));
    assertSucceeded(result);
    ctx.ui.json({ ok: true, environment: env.name, ...r });
    ctx.ui.print(
      [
        `switchover ${env.name}: ${r!.from} → ${r!.to}`,
        `  new leader running after   ${r!.switchSeconds}s`,
        `  every HAProxy routes to it ${r!.routedSeconds}s`,
        `  write outage               ${r!.writeOutageSeconds}s (${r!.acknowledgedWrites} writes acknowledged, ${r!.failedWrites} failed, ${r!.lostWrites} lost)`,
        `  ${r!.from} rejoined as a replica`,
      ].join('\n'),
    );
    return EXIT.ok;
  } finally {
    dispose();
    await pool.closeAll();
  }
}
