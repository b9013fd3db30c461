import { assertSucceeded, runPlan } from '../engine/run.js';
import { EXIT, UsageError } from '../errors.js';
import { prepareSwitchover, switchoverPlan, type SwitchoverReport } from '../switchover/plan.js';
import type { Session } from '../session/session.js';
import { operate } from '../session/operation.js';

/** `twincigo switchover [--to NODE]`: a planned, measured leader change under the environment's lock. */
export function switchover(ctx: Session, to: string | undefined, lockWaitSec: number): Promise<number> {
  const env = ctx.config.env;
  if (to !== undefined && !env.nodes.some((n) => n.name === to)) {
    throw new UsageError(`no node ${to} in ${env.name}`, [`nodes: ${env.nodes.map((n) => n.name).join(', ')}`]);
  }
  return operate(ctx, async (op) => {
    const out: { report?: SwitchoverReport } = {};
    const target = await prepareSwitchover(op.pool, env, to);
    const result = await op.locked(`switchover${to ? ` --to ${to}` : ''}`, lockWaitSec, () => runPlan(switchoverPlan(op.pool, env, target, out), { nodes: env.nodes, mode: ctx.renderMode, signal: op.signal }));
    const r = out.report;
    await op.audit('switchover', result.ok ? 'ok' : result.interrupted ? 'interrupted' : 'failed', r ? `${r.from} → ${r.to}, write outage ${r.writeOutageSeconds}s` : result.error);
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
  }, { guard: `switchover moves the ${env.name} leader.` });
}
