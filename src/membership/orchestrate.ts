import type { NodeConfig } from '../config/model.js';
import { assertSucceeded, runPlan } from '../engine/run.js';
import type { Phase, Plan, RunResult } from '../engine/types.js';
import { EXIT, TwincigoError } from '../errors.js';
import type { Operation } from '../session/operation.js';
import type { NodeBundle } from '../stack/bundle.js';
import { statusTable } from '../status/table.js';
import { changesOf, type BootstrapOptions, type BootstrapRun } from '../bootstrap/bootstrap-run.js';
import { describeChange } from '../bootstrap/changes.js';
import type { Finding } from '../bootstrap/preflight.js';
import { newBootstrapRun, preflight, settled } from '../bootstrap/orchestrate.js';
import { databasePhase } from '../bootstrap/phases/database.js';
import { etcdPhase } from '../bootstrap/phases/etcd.js';
import { firewallPhase } from '../bootstrap/phases/firewall.js';
import { haproxyPhase } from '../bootstrap/phases/haproxy.js';
import { imagesPhase } from '../bootstrap/phases/images.js';
import { recordPhase, servicesPhase, watchersPhase } from '../bootstrap/phases/services.js';
import { stackPhase, swarmPhase } from '../bootstrap/phases/swarm.js';
import { uploadPhase } from '../bootstrap/phases/upload.js';
import { etcdJoinPhase, membershipPhase, patroniReplacePhase, survivorsPhase, survivorsReloadPhase } from './phases.js';
import { retirePhase, stopRemovedPhase, type Removal } from './remove.js';
import type { Replacement } from './replacement.js';

export type MembershipOptions = BootstrapOptions & { lockWaitSec: number };

/**
 * After the survivors' checks and preflight: the dead node out of etcd, Patroni and Swarm; then
 * bootstrap's phases over the environment with the replacement in it — its firewall everywhere,
 * its files, images and swarm membership, its etcd member joining (then every member converged,
 * one at a time), Patroni reloaded on the survivors and the replacement cloned, HAProxy reloaded
 * one node at a time, its services, the stack spread onto it, and the record. `node add` is the
 * same for a node etcd and Patroni do not know yet.
 */
export function replacePlan(run: BootstrapRun, r: Replacement, out: { clonedWith?: string } = {}): Plan<NodeConfig> {
  const phases: Phase<NodeConfig>[] = [
    ...membershipPhase(run, r), ...firewallPhase(run), ...uploadPhase(run), ...imagesPhase(run), ...swarmPhase(run), ...etcdJoinPhase(run, r), ...etcdPhase(run),
    ...patroniReplacePhase(run, r, out), ...haproxyPhase(run), ...databasePhase(run), ...servicesPhase(run), ...stackPhase(run), ...watchersPhase(run), ...recordPhase(run),
  ];
  return { title: `node ${r.kind} ${r.name} (${run.env.name})`, phases };
}

/** node remove: the node out of every membership, then the others converged without it (reloads; etcd one member at a time), then its containers stopped. */
export function removePlan(run: BootstrapRun, x: Removal): Plan<NodeConfig> {
  const phases: Phase<NodeConfig>[] = [
    ...retirePhase(run, x), ...firewallPhase(run), ...uploadPhase(run), ...swarmPhase(run), ...etcdPhase(run), survivorsReloadPhase(run, x.node),
    ...haproxyPhase(run), ...servicesPhase(run), ...stackPhase(run), ...watchersPhase(run), ...recordPhase(run), ...stopRemovedPhase(run, x),
  ];
  return { title: `node remove ${x.node.name} (${run.env.name})`, phases };
}

/** `twincigo node replace|add`: survivors checked, preflight (Docker installed when allowed), the lock, the plan, the audit line, the settled status. */
export async function runReplace(op: Operation, bundles: NodeBundle[], r: Replacement, opts: MembershipOptions): Promise<number> {
  const env = op.session.config.env;
  const run = newBootstrapRun(op, bundles, opts);
  const started = performance.now();
  assertSucceeded(await runPlan({ title: `node ${r.kind} ${r.name}: the other nodes`, phases: survivorsPhase(run, r) }, { nodes: env.nodes, mode: op.session.renderMode, signal: op.signal }));
  const findings = await preflight(op, run);
  if (!run.existing.leader || run.existing.leader === r.name) {
    throw new TwincigoError(`no running leader among the other nodes (preflight saw ${run.existing.leader ?? 'none'})`, EXIT.failed, [`twincigo status shows why; node ${r.kind} needs a running cluster on the other nodes`]);
  }
  const out: { clonedWith?: string } = {};
  const result = await op.locked(`node ${r.kind} ${r.name}`, opts.lockWaitSec, () => runPlan(replacePlan(run, r, out), { nodes: env.nodes, mode: op.session.renderMode, signal: op.signal }));
  const moved = r.address !== r.oldAddress ? ` (${r.oldAddress} → ${r.address})` : '';
  return finish(op, run, result, findings, started, {
    command: `node ${r.kind}`,
    detail: `${r.name} at ${r.address}`,
    json: { node: r.name, address: r.address, previousAddress: r.oldAddress, cloneFrom: r.cloneFrom, clonedWith: out.clonedWith ?? null },
    headline: (s) => `node ${r.kind} ${env.name}: ${r.name} ${r.kind === 'add' ? 'added' : 'replaced'}${moved} in ${s} s${out.clonedWith ? `, its database cloned with ${out.clonedWith}` : ''}`,
  });
}

/** `twincigo node remove`: the others checked (preflight), the lock, the plan, the audit line, the settled status. */
export async function runRemove(op: Operation, bundles: NodeBundle[], x: Removal, opts: MembershipOptions): Promise<number> {
  const env = op.session.config.env;
  const run = newBootstrapRun(op, bundles, opts);
  const started = performance.now();
  const findings = await preflight(op, run);
  const result = await op.locked(`node remove ${x.node.name}`, opts.lockWaitSec, () => runPlan(removePlan(run, x), { nodes: env.nodes, mode: op.session.renderMode, signal: op.signal }));
  return finish(op, run, result, findings, started, {
    command: 'node remove',
    detail: x.node.name,
    json: { node: x.node.name, address: x.node.privateAddress },
    headline: (s) => `node remove ${env.name}: ${x.node.name} removed in ${s} s; ${env.nodes.length} nodes left`,
  });
}

interface Wording {
  command: string;
  detail: string;
  json: Record<string, unknown>;
  headline: (seconds: string) => string;
}

/** The audit line, the failing containers' logs, the settled status, the JSON and the text report. */
async function finish(op: Operation, run: BootstrapRun, result: RunResult, findings: Finding[], started: number, w: Wording): Promise<number> {
  const ctx = op.session;
  const env = run.env;
  const changed = [...run.changes.values()].flat();
  await op.audit(w.command, result.interrupted ? 'interrupted' : result.ok ? 'ok' : 'failed', result.ok ? `${w.detail}, ${changed.length} changes` : result.error);
  for (const d of run.diagnostics) ctx.ui.info(`\n── ${d.node}: ${d.title} ──\n${d.text || '(no output)'}`);
  assertSucceeded(result);
  const { status, waitedMs } = await settled(op);
  const durationMs = Math.round(performance.now() - started);
  ctx.ui.json({
    ok: true, environment: env.name, ...w.json, durationMs,
    changes: Object.fromEntries(env.nodes.map((n) => [n.name, changesOf(run, n.name).map(describeChange)])),
    warnings: findings.filter((f) => f.level === 'warning').map((f) => `${f.node ? `${f.node}: ` : ''}${f.message}`),
    steps: result.steps, healthy: status.healthy, statusWarnings: status.warnings, settleWaitMs: waitedMs, status,
  });
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: ctx.ui.isTTY && ctx.options.color ? 1 : 0 });
  ctx.ui.print([w.headline((durationMs / 1000).toFixed(0)), '', statusTable(status, { ok: c.green, bad: c.red, warn: c.yellow })].join('\n'));
  if (status.exitCode !== EXIT.ok) {
    ctx.ui.warn(`${w.command} is done, but after ${Math.round(waitedMs / 1000)} s the cluster is still not healthy:`);
    for (const s of status.warnings.length > 0 ? status.warnings : ['no leader']) ctx.ui.warn(`  - ${s}`);
  }
  return status.exitCode;
}
