import { auditEverywhere, auditLine } from '../audit/write.js';
import { assertSucceeded, runPlan } from '../engine/run.js';
import { EXIT } from '../errors.js';
import { drillPlan, prepareDrill, type DrillResult } from '../failover/drill.js';
import { aggregate, reportTable } from '../failover/report.js';
import { SCENARIO_INFO, type Scenario } from '../failover/scenarios.js';
import type { Session } from '../session/session.js';
import { operate, type Operation } from '../session/operation.js';

export interface FailoverFlags {
  scenario: Scenario;
  runs: number;
  maxOutageSeconds?: number | undefined;
  timeoutSec: number;
  lockWaitSec: number;
}

/**
 * `twincigo failover-test`: a measured drill. Refuses an unhealthy cluster; holds the lock; every
 * run restores what it broke (also on failure, timeout and Ctrl-C) and waits for the old leader
 * to stream again. Exit 0 passed, 1 failed (outage over the limit, a write lost, split brain).
 */
export function failoverTest(ctx: Session, f: FailoverFlags): Promise<number> {
  const env = ctx.config.env;
  const limit = f.maxOutageSeconds ?? SCENARIO_INFO[f.scenario].maxOutageSeconds;
  const command = `failover-test --scenario ${f.scenario}`;
  return operate(ctx, async (op) => {
    try {
      await prepareDrill(op.pool, env, f.scenario); // refuse before taking the lock
      const results = await op.locked(command, f.lockWaitSec, () => drills(op, f, limit));
      const report = aggregate(f.scenario, results, limit);
      await op.audit(command, report.passed ? 'passed' : 'failed', `write outage ${report.writeOutageSeconds}s, ${report.lostWrites} lost`);
      ctx.ui.json(report);
      ctx.ui.print(reportTable(report));
      return report.passed ? EXIT.ok : EXIT.failed;
    } catch (err) {
      await auditEverywhere(op.pool, env.nodes, env.baseDir, auditLine({ by: op.by, env: env.name, command, result: op.signal.aborted ? 'interrupted' : 'error', detail: (err as Error).message }), () => undefined);
      throw err;
    }
  }, { guard: `failover-test breaks the ${env.name} cluster on purpose.` });
}

/** The runs, one after the other; each restores what it broke (also on failure, timeout and Ctrl-C). */
async function drills(op: Operation, f: FailoverFlags, limit: number): Promise<DrillResult[]> {
  const env = op.session.config.env;
  const results: DrillResult[] = [];
  for (let i = 0; i < f.runs; i++) {
    // a hard limit per run: the engine stops, and the restore still runs as a cleanup
    const hard = AbortSignal.any([op.signal, AbortSignal.timeout(f.timeoutSec * 1000)]);
    // after a run, the cluster may still be settling: wait for it rather than refuse
    const target = await prepareDrill(op.pool, env, f.scenario, i === 0 ? 10_000 : 120_000);
    const out: { result?: DrillResult } = {};
    if (f.runs > 1) op.session.ui.info(`run ${i + 1} of ${f.runs}`);
    const res = await runPlan(drillPlan(op.pool, env, target, out, limit, op.session.values.values), { nodes: env.nodes, mode: op.session.renderMode, signal: hard });
    if (!res.ok && !op.signal.aborted && hard.aborted) throw new Error(`failover-test: over the ${f.timeoutSec}s limit (--timeout); what was broken has been restored`);
    assertSucceeded(res);
    results.push(out.result!);
  }
  return results;
}
