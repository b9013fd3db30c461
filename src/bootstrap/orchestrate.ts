import type { Operation } from '../session/operation.js';
import { assertSucceeded, runPlan } from '../engine/run.js';
import type { RunResult } from '../engine/types.js';
import { EXIT, TwincigoError } from '../errors.js';
import type { NodeBundle } from '../stack/bundle.js';
import { clusterStatus } from '../status/collect.js';
import type { ClusterStatus } from '../status/model.js';
import { settledStatus } from '../status/settle.js';
import { statusTable } from '../status/table.js';
import { describeChange } from './changes.js';
import { changesOf, type BootstrapOptions, type BootstrapRun } from './bootstrap-run.js';
import { installDockerCommand } from './install-docker.js';
import { bootstrapPlan } from './plan.js';
import { preflightPlan } from './preflight-plan.js';
import { needsDocker, type Finding } from './preflight.js';
import { connectionInfo } from './report.js';
import { shipImage } from './ship.js';

/** How long bootstrap's final status waits for a cluster that is still settling. */
const SETTLE_MS = 60_000;

const describeFinding = (f: Finding) => `${f.node ? `${f.node}: ` : ''}${f.message}`;

/** What one run of bootstrap's phases shares, for the session's environment (node replace/add/remove run them too). */
export function newBootstrapRun(op: Operation, bundles: NodeBundle[], opts: BootstrapOptions): BootstrapRun {
  const ctx = op.session;
  return {
    env: ctx.config.env, values: ctx.values, bundles: new Map(bundles.map((b) => [b.node, b])), pool: op.pool, options: opts,
    facts: new Map(), existing: { leader: null, etcd: false }, converged: new Set(), changes: new Map(), diagnostics: [], shipImage,
  };
}

/** Preflight (read-only), Docker install when allowed, then the lock, the plan, the audit line and the report. */
export async function runBootstrap(op: Operation, bundles: NodeBundle[], opts: BootstrapOptions & { lockWaitSec: number }): Promise<number> {
  const ctx = op.session;
  const run = newBootstrapRun(op, bundles, opts);
  const started = performance.now();
  const findings = await preflight(op, run);
  // the lock for the whole run; released on success, failure and Ctrl-C
  const result = await op.locked('bootstrap', opts.lockWaitSec, () => runPlan(bootstrapPlan(run), { nodes: run.env.nodes, mode: ctx.renderMode, signal: op.signal }));
  const changed = [...run.changes.values()].flat();
  await op.audit('bootstrap', result.interrupted ? 'interrupted' : result.ok ? 'ok' : 'failed', result.ok ? `${changed.length} changes` : result.error);
  for (const d of run.diagnostics) ctx.ui.info(`\n── ${d.node}: ${d.title} ──\n${d.text || '(no output)'}`);
  // a failure ends as every command's error does (with --json: {"ok":false,…} on stdout)
  assertSucceeded(result);
  const { status, waitedMs } = await settled(op);
  await report(op, run, { result, findings, status, waitedMs, started, changes: changed.length });
  return status.exitCode;
}

/** 1. preflight: read-only; a problem stops here with nothing changed. Missing Docker is installed when allowed, then preflight again. */
export async function preflight(op: Operation, run: BootstrapRun): Promise<Finding[]> {
  const { ui, renderMode: mode } = op.session;
  const nodes = run.env.nodes;
  const look = async () => {
    const findings: Finding[] = [];
    const pre = await runPlan(preflightPlan(run, findings), { nodes, mode, signal: op.signal });
    findings.forEach((f) => (f.level === 'error' ? ui.problem(describeFinding(f)) : ui.warn(describeFinding(f))));
    assertSucceeded(pre);
    return findings;
  };
  const first = await look();
  const noDocker = nodes.filter((n) => needsDocker(run.facts.get(n.name)!.facts));
  if (noDocker.length === 0) return first;
  const names = noDocker.map((n) => n.name).join(', ');
  if (!(await ui.confirm(`Docker with compose v2 is missing on ${names}. Install it from the OS packages?`))) {
    throw new TwincigoError(`Docker with compose v2 is missing on ${names}; nothing was changed`, EXIT.failed, ['install docker.io and the compose v2 plugin, or re-run with --yes to let bootstrap do it']);
  }
  const install = async ({ node }: { node: (typeof nodes)[number] }) =>
    void (await (await op.pool.get(node)).run(installDockerCommand(run.facts.get(node.name)!.facts.os), { timeoutMs: 880_000 }));
  const plan = { title: 'install Docker', phases: [{ title: 'Docker from the OS packages', nodes: noDocker, steps: [{ title: 'apt-get install docker.io + compose v2', timeoutMs: 900_000, run: install }] }] };
  assertSucceeded(await runPlan(plan, { nodes, mode, signal: op.signal }));
  return look();
}

/** The result is the settled cluster, not a passing moment: up to 60 s for a cluster still settling. */
export function settled(op: Operation): Promise<{ status: ClusterStatus; waitedMs: number }> {
  const env = op.session.config.env;
  let told = false;
  return settledStatus(() => clusterStatus(op.pool, env, env.nodes, 8000), {
    timeoutMs: SETTLE_MS,
    signal: op.signal,
    onWait: (s) => {
      if (!told) op.session.ui.info(`waiting up to ${SETTLE_MS / 1000} s for the cluster to settle: ${s.warnings[0] ?? 'not healthy yet'}`);
      told = true;
    },
  });
}

interface Outcome {
  result: RunResult;
  findings: Finding[];
  status: ClusterStatus;
  waitedMs: number;
  started: number;
  changes: number;
}

/** 10. report: what changed, the status table and how to connect; when not healthy, every reason. */
async function report(op: Operation, run: BootstrapRun, o: Outcome): Promise<void> {
  const { ui, options, values } = op.session;
  const env = run.env;
  ui.json({
    ok: true, environment: env.name, changed: o.changes > 0, durationMs: Math.round(performance.now() - o.started),
    changes: Object.fromEntries(env.nodes.map((n) => [n.name, changesOf(run, n.name).map(describeChange)])),
    warnings: o.findings.filter((f) => f.level === 'warning').map(describeFinding), steps: o.result.steps,
    healthy: o.status.healthy, statusWarnings: o.status.warnings, settleWaitMs: o.waitedMs, status: o.status,
  });
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: ui.isTTY && options.color ? 1 : 0 });
  ui.print(
    [
      o.changes === 0 ? `bootstrap ${env.name}: already up to date — nothing changed, nothing restarted` : `bootstrap ${env.name}: done (${o.changes} changes)`,
      '',
      statusTable(o.status, { ok: c.green, bad: c.red, warn: c.yellow }),
      '',
      connectionInfo(env, values),
    ].join('\n'),
  );
  if (o.status.exitCode !== EXIT.ok) {
    ui.warn(`bootstrap finished, but after ${Math.round(o.waitedMs / 1000)} s the cluster is still not healthy:`);
    for (const w of o.status.warnings.length > 0 ? o.status.warnings : ['no leader']) ui.warn(`  - ${w}`);
  }
}
