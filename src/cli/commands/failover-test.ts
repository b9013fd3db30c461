import { auditEverywhere, auditLine, operator, withLock } from '../../cluster/lock.js';
import { assertSucceeded, runPlan } from '../../engine/run.js';
import { EXIT } from '../../errors.js';
import { drillPlan, prepareDrill, type DrillResult } from '../../failover/drill.js';
import { aggregate, reportTable } from '../../failover/report.js';
import { SCENARIO_INFO, type Scenario } from '../../failover/scenarios.js';
import { createContext, type GlobalOptions } from '../context.js';
import { interruptSignal, sshPool } from '../session.js';

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
export async function failoverTest(g: GlobalOptions, f: FailoverFlags): Promise<number> {
  const ctx = await createContext(g);
  const env = ctx.config.env;
  const limit = f.maxOutageSeconds ?? SCENARIO_INFO[f.scenario].maxOutageSeconds;
  if (env.profile === 'prod' || env.name === 'prod') await ctx.ui.typeToConfirm(`failover-test breaks the ${env.name} cluster on purpose.`, env.name);
  const pool = sshPool(ctx);
  const { signal, dispose } = interruptSignal(ctx);
  const by = operator();
  const results: DrillResult[] = [];
  try {
    await prepareDrill(pool, env, f.scenario); // refuse before taking the lock
    await withLock(
      await pool.get(env.nodes[0]!),
      env.baseDir,
      { by, command: `failover-test --scenario ${f.scenario}`, env: env.name, since: new Date().toISOString() },
      { waitMs: f.lockWaitSec * 1000, onWait: (h) => ctx.ui.info(`waiting for the lock held by ${h} …`), onReleaseError: (e) => ctx.ui.warn(`lock not released: ${e.message}`) },
      async () => {
        for (let i = 0; i < f.runs; i++) {
          // a hard limit per run: the engine stops, and the restore still runs as a cleanup
          const hard = AbortSignal.any([signal, AbortSignal.timeout(f.timeoutSec * 1000)]);
          // after a run, the cluster may still be settling: wait for it rather than refuse
          const target = await prepareDrill(pool, env, f.scenario, i === 0 ? 10_000 : 120_000);
          const out: { result?: DrillResult } = {};
          if (f.runs > 1) ctx.ui.info(`run ${i + 1} of ${f.runs}`);
          const res = await runPlan(drillPlan(pool, env, target, out, limit), { nodes: env.nodes, mode: ctx.renderMode, signal: hard });
          if (!res.ok && !signal.aborted && hard.aborted) throw new Error(`failover-test: over the ${f.timeoutSec}s limit (--timeout); what was broken has been restored`);
          assertSucceeded(res);
          results.push(out.result!);
        }
      },
    );
    const report = aggregate(f.scenario, results, limit);
    await auditEverywhere(pool, env.nodes, env.baseDir, auditLine({ by, env: env.name, command: `failover-test --scenario ${f.scenario}`, result: report.passed ? 'passed' : 'failed', detail: `write outage ${report.writeOutageSeconds}s, ${report.lostWrites} lost` }), (m) => ctx.ui.warn(m));
    ctx.ui.json(report);
    ctx.ui.print(reportTable(report));
    return report.passed ? EXIT.ok : EXIT.failed;
  } catch (err) {
    await auditEverywhere(pool, env.nodes, env.baseDir, auditLine({ by, env: env.name, command: `failover-test --scenario ${f.scenario}`, result: signal.aborted ? 'interrupted' : 'error', detail: (err as Error).message }), () => undefined);
    throw err;
  } finally {
    dispose();
    await pool.closeAll();
  }
}
