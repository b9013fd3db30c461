import type { Context } from '../cli/context.js';
import { interruptSignal, sshPool } from '../cli/session.js';
import { auditEverywhere, auditLine, operator, withLock } from '../cluster/lock.js';
import { assertSucceeded, runPlan } from '../engine/run.js';
import { EXIT, TwincigoError } from '../errors.js';
import type { NodeBundle } from '../stack/bundle.js';
import { clusterStatus } from '../status/collect.js';
import { settledStatus } from '../status/settle.js';
import { statusTable } from '../status/table.js';
import type { BootstrapOptions, BootstrapRun } from './context.js';
import { installDockerCommand } from './install-docker.js';
import { bootstrapPlan } from './plan.js';
import { preflightPlan } from './preflight-plan.js';
import { needsDocker, type Finding } from './preflight.js';
import { connectionInfo } from './report.js';
import { shipImage } from './ship.js';

type Ctx = Pick<Context, 'ui' | 'config' | 'env' | 'renderMode' | 'options'>;

/** How long bootstrap's final status waits for a cluster that is still settling. */
const SETTLE_MS = 60_000;

const describeFinding = (f: Finding) => `${f.node ? `${f.node}: ` : ''}${f.message}`;

/** Preflight (read-only), Docker install when allowed, then the lock, the plan, the audit line and the report. */
export async function runBootstrap(ctx: Ctx, bundles: NodeBundle[], opts: BootstrapOptions & { lockWaitSec: number }): Promise<number> {
  const env = ctx.config.env;
  const pool = sshPool(ctx);
  const { signal, dispose } = interruptSignal(ctx);
  const run: BootstrapRun = {
    env, values: ctx.env, bundles: new Map(bundles.map((b) => [b.node, b])), pool, options: opts,
    facts: new Map(), existing: { leader: null, etcd: false }, converged: new Set(), changes: new Map(), diagnostics: [], shipImage,
  };
  const mode = ctx.renderMode;
  const nodes = env.nodes;
  const started = performance.now();
  try {
    // 1. preflight: read-only; a problem stops here with nothing changed
    let findings: Finding[] = [];
    let pre = await runPlan(preflightPlan(run, findings), { nodes, mode, signal });
    const report = () => findings.forEach((f) => (f.level === 'error' ? ctx.ui.problem(describeFinding(f)) : ctx.ui.warn(describeFinding(f))));
    report();
    assertSucceeded(pre);
    const noDocker = nodes.filter((n) => needsDocker(run.facts.get(n.name)!.facts));
    if (noDocker.length > 0) {
      const names = noDocker.map((n) => n.name).join(', ');
      if (!(await ctx.ui.confirm(`Docker with compose v2 is missing on ${names}. Install it from the OS packages?`))) {
        throw new TwincigoError(`Docker with compose v2 is missing on ${names}; nothing was changed`, EXIT.failed, ['install docker.io and the compose v2 plugin, or re-run with --yes to let bootstrap do it']);
      }
      const install = await runPlan(
        { title: 'install Docker', phases: [{ title: 'Docker from the OS packages', nodes: noDocker, steps: [{ title: 'apt-get install docker.io + compose v2', timeoutMs: 900_000, run: async ({ node }) => void (await (await pool.get(node)).run(installDockerCommand(run.facts.get(node.name)!.facts.os), { timeoutMs: 880_000 })) }] }] },
        { nodes, mode, signal },
      );
      assertSucceeded(install);
      findings = [];
      pre = await runPlan(preflightPlan(run, findings), { nodes, mode, signal });
      report();
      assertSucceeded(pre);
    }

    // the lock for the whole run; released on success, failure and Ctrl-C
    const by = operator();
    const result = await withLock(
      await pool.get(nodes[0]!),
      env.baseDir,
      { by, command: 'bootstrap', env: env.name, since: new Date().toISOString() },
      { waitMs: opts.lockWaitSec * 1000, onWait: (h) => ctx.ui.info(`waiting for the lock held by ${h} …`), onReleaseError: (e) => ctx.ui.warn(`lock not released: ${e.message} (twincigo lock release)`) },
      () => runPlan(bootstrapPlan(run), { nodes, mode, signal }),
    );
    const outcome = result.interrupted ? 'interrupted' : result.ok ? 'ok' : 'failed';
    const changed = [...run.changes.values()].flat();
    await auditEverywhere(pool, nodes, env.baseDir, auditLine({ by, env: env.name, command: 'bootstrap', result: outcome, detail: result.ok ? `${changed.length} changes` : result.error }), (m) => ctx.ui.warn(m));
    for (const d of run.diagnostics) ctx.ui.info(`\n── ${d.node}: ${d.title} ──\n${d.text || '(no output)'}`);
    // a failure ends as every command's error does (with --json: {"ok":false,…} on stdout)
    assertSucceeded(result);

    // 10. report
    // the result is the settled cluster, not a passing moment: up to 60 s for a cluster still settling
    let told = false;
    const { status, waitedMs } = await settledStatus(() => clusterStatus(pool, env, nodes, 8000), {
      timeoutMs: SETTLE_MS, signal,
      onWait: (s) => {
        if (!told) ctx.ui.info(`waiting up to ${SETTLE_MS / 1000} s for the cluster to settle: ${s.warnings[0] ?? 'not healthy yet'}`);
        told = true;
      },
    });
    const nothing = changed.length === 0;
    ctx.ui.json({
      ok: true, environment: env.name, changed: !nothing, durationMs: Math.round(performance.now() - started),
      changes: Object.fromEntries(nodes.map((n) => [n.name, run.changes.get(n.name) ?? []])),
      warnings: findings.filter((f) => f.level === 'warning').map(describeFinding), steps: result.steps,
      healthy: status.healthy, statusWarnings: status.warnings, settleWaitMs: waitedMs, status,
    });
    const { Chalk } = await import('chalk');
    const c = new Chalk({ level: ctx.ui.isTTY && ctx.options.color ? 1 : 0 });
    ctx.ui.print(
      [
        nothing ? `bootstrap ${env.name}: already up to date — nothing changed, nothing restarted` : `bootstrap ${env.name}: done (${changed.length} changes)`,
        '',
        statusTable(status, { ok: c.green, bad: c.red, warn: c.yellow }),
        '',
        connectionInfo(env, ctx.env),
      ].join('\n'),
    );
    if (status.exitCode !== EXIT.ok) {
      ctx.ui.warn(`bootstrap finished, but after ${Math.round(waitedMs / 1000)} s the cluster is still not healthy:`);
      for (const w of status.warnings.length > 0 ? status.warnings : ['no leader']) ctx.ui.warn(`  - ${w}`);
    }
    return status.exitCode;
  } finally {
    dispose();
    await pool.closeAll();
  }
}
