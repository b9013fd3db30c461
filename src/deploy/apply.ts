import { etcdQuorum, haproxyRoutesToLeader } from '../cluster/health.js';
import { patroniMembers } from '../cluster/patroni.js';
import { parseApiResponse, patroniApiCommand } from '../cluster/patroni-api.js';
import { ServiceError, upServices } from '../cluster/services.js';
import { notYet, ready, waitUntil } from '../cluster/wait.js';
import type { NodeConfig } from '../config/model.js';
import type { Phase, Plan, StepContext } from '../engine/types.js';
import { TwincigoError, errorMessage } from '../errors.js';
import { reloadCommand } from '../stack/reload.js';
import { containerName } from '../remote/compose.js';
import { root } from '../remote/shell.js';
import { upload } from '../ssh/upload.js';
import { appliedFile, bundleDigest } from '../stack/bundle.js';
import { ROLLING, describeNode, hasChanges, previousComposeFiles, type NodeChanges, type ReloadEntry } from './changes.js';
import { note, nodeNamed, targetId, type DeployRun } from './deploy-run.js';
import { describePatch } from './patroni-dcs.js';
import { activateCommand, pruneCommand, snapshotCommand } from './release.js';
import { patroniRollingPhase } from './rolling.js';
import { stage } from './prepare.js';
import { stackApplyPhase } from './stack.js';

/** Health-gate timeouts (seconds) of a deploy. */
export const DEPLOY_WAITS = { services: 180, etcd: 60, haproxy: 30, pendingRestart: 30 } as const;

type Ctx = StepContext<NodeConfig>;

/**
 * The deploy itself, after the prepare plan: Patroni's cluster config first (PATCH /config), then
 * node by node — activate the release, reload what reads changed config files in place, recreate
 * what compose sees changed (except Patroni), health-gated; a node that fails is put back on its
 * previous release and the deploy stops. Then Patroni members that must restart or be recreated,
 * one at a time, replicas first, the leader after a switchover. Last, old releases are pruned.
 */
export function applyPlan(run: DeployRun, opts: { record: boolean }): Plan<NodeConfig> {
  // every node in scope gets the release (the same id everywhere); unchanged ones restart nothing
  const changing = run.nodes.some((n) => hasChanges(run.changes.get(n.name)!)) ? run.nodes : [];
  const rolling = patroniRollingPhase(run);
  const phases = [...dcsPhase(run), ...(changing.length > 0 ? [nodesPhase(run, changing)] : []), ...stackApplyPhase(run), ...(rolling ? [rolling] : []), finishPhase(run, opts)];
  return { title: `${run.meta.command} ${run.env.name}: release ${run.meta.id}`, phases };
}

/** Patroni's cluster config first (PATCH /config); a parameter that needs a restart: wait until every member flags it. */
function dcsPhase(run: DeployRun): Phase<NodeConfig>[] {
  const patch = run.dcs?.patch ?? {};
  if (Object.keys(patch).length === 0) return [];
  return [{
    title: 'Patroni cluster config',
    then: [{
      title: `PATCH /config: ${describePatch(patch, run.dcs!.current).join(', ')}`,
      timeoutMs: (DEPLOY_WAITS.pendingRestart + 60) * 1000,
      run: async ({ signal, log }) => {
        const conn = await run.pool.get(nodeNamed(run, run.leader!));
        const res = parseApiResponse((await conn.run(patroniApiCommand('PATCH', '/config', patch), { timeoutMs: 30_000 })).stdout);
        if (res.status !== 200) throw new TwincigoError(`Patroni refused the config change (HTTP ${res.status}): ${res.body}`);
        note(run, run.leader!, { kind: 'patroni-config', change: describePatch(patch, run.dcs!.current).join(', ') });
        const params = run.dcs!.restartParameters;
        if (params.length === 0) return 'applied by reload';
        // every member reloads within loop_wait and flags the parameters it cannot apply live
        const expected = run.env.nodes.filter((n) => n.roles.includes('patroni')).length;
        await waitUntil('every member to flag the restart', async () => {
          const flagged = (await patroniMembers(conn)).filter((m) => m.pending_restart).length;
          return flagged === expected ? ready(flagged) : notYet(`${flagged} of ${expected} members pending restart`);
        }, { timeoutMs: DEPLOY_WAITS.pendingRestart * 1000, intervalMs: 500, signal, log });
        return `${params.join(', ')} need a restart: every member pending restart`;
      },
    }],
  }];
}

/** Node by node: activate the release, then reload/recreate what changed, health-gated; a failing node is rolled back. */
function nodesPhase(run: DeployRun, changing: NodeConfig[]): Phase<NodeConfig> {
  const activate = async ({ node }: Ctx) => {
    const c = run.changes.get(node.name)!;
    const id = targetId(run, node.name);
    const conn = await run.pool.get(node);
    if (run.bundles.size > 0) await stage(run, node); // a node whose files did not differ gets the release now
    if (!c.current) {
      // first deploy on a bootstrapped node: its live files become a release to come back to
      await conn.run(snapshotCommand(run.env.baseDir, { ...run.meta, id: run.snapshotId, command: 'live files before the first deploy' }, c.livePaths), { timeoutMs: 30_000 });
    }
    const res = await conn.run(activateCommand(run.env.baseDir, id), { timeoutMs: 30_000 });
    const changed = res.stdout.split('\n').filter(Boolean).length;
    note(run, node.name, { kind: 'release', id, files: changed });
    return `${changed} files changed; current → releases/${id}`;
  };
  const services = async (ctx: Ctx) => {
    const c = run.changes.get(ctx.node.name)!;
    try {
      return await applyServices(run, ctx.node, c, ctx);
    } catch (err) {
      await rollBack(run, ctx, c, err);
      throw err;
    }
  };
  return {
    title: 'Nodes, one at a time',
    nodes: changing,
    serial: true,
    steps: [
      { title: run.targets.size ? 'activate the release to return to' : `activate release ${run.meta.id}`, timeoutMs: 60_000, run: activate },
      {
        title: 'services: reload or recreate what changed, health-gated',
        timeoutMs: (DEPLOY_WAITS.services * 2 + 240) * 1000,
        skip: ({ node }: Ctx) => (hasChanges(run.changes.get(node.name)!) ? false : 'nothing changed on this node'),
        run: services,
      },
    ],
  };
}

/** Last: old releases pruned, and (a deploy) the applied bundle's digest recorded, as bootstrap does. */
function finishPhase(run: DeployRun, opts: { record: boolean }): Phase<NodeConfig> {
  return {
    title: 'Finish',
    nodes: run.nodes,
    steps: [{
      title: 'prune old releases; record what runs',
      run: async ({ node }: Ctx) => {
        const conn = await run.pool.get(node);
        const pruned = (await conn.run(pruneCommand(run.env.baseDir), { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
        const digest = run.bundles.get(node.name);
        if (opts.record && digest && hasChanges(run.changes.get(node.name)!)) {
          const record = `${JSON.stringify({ digest: bundleDigest(digest), at: new Date().toISOString(), by: run.meta.by, command: run.meta.command, release: run.meta.id })}\n`;
          await upload(conn, [{ remotePath: appliedFile(run.env.baseDir), content: record, mode: 0o644 }]);
        }
        return pruned.length ? pruned.join(', ') : 'nothing pruned';
      },
    }],
  };
}

async function applyServices(run: DeployRun, node: NodeConfig, c: NodeChanges, ctx: Ctx): Promise<string> {
  const conn = await run.pool.get(node);
  const files = run.composeFiles.get(node.name)!;
  const notes: string[] = [];
  for (const r of c.reload) {
    await conn.run(reloadCommand(r), { timeoutMs: 120_000 });
    note(run, node.name, { kind: r.how === 'restart' ? 'restarted' : 'reloaded', service: r.service });
    notes.push(`${r.how === 'restart' ? 'restarted' : 'reloaded'} ${r.service}`);
  }
  if (c.orphans.length > 0) {
    await conn.run(removeContainersCommand(c.orphans), { timeoutMs: 120_000 });
    for (const o of c.orphans) note(run, node.name, { kind: 'removed', service: o });
    notes.push(`removed ${c.orphans.join(', ')}`);
  }
  const services = c.recreate.filter((s) => !ROLLING.has(s));
  if (services.length > 0) {
    const { changed } = await upServices(conn, run.env.baseDir, files, services, { waitSec: DEPLOY_WAITS.services, signal: ctx.signal });
    for (const name of changed) note(run, node.name, { kind: 'recreated', service: name });
    notes.push(changed.length ? `recreated ${changed.join(', ')}` : 'compose found nothing to recreate');
  }
  await gates(run, node, [...services, ...c.reload.map((r) => r.service)], ctx);
  return notes.length ? notes.join('; ') : describeNode(c);
}

/** Stops and removes the containers of services a node no longer runs (their volumes are kept). */
export const removeContainersCommand = (services: readonly string[]) => root('docker', 'rm', '--force', ...services.map(containerName));

/** After a node changed: etcd still has its quorum, HAProxy still routes :5000 to the leader. */
async function gates(run: DeployRun, node: NodeConfig, touched: string[], ctx: Ctx): Promise<void> {
  const conn = await run.pool.get(node);
  const wait = { signal: ctx.signal, log: ctx.log, intervalMs: 500 };
  if (touched.includes('etcd')) {
    await waitUntil('etcd quorum', () => etcdQuorum(conn, run.env.nodes.filter((n) => n.roles.includes('etcd'))), { ...wait, timeoutMs: DEPLOY_WAITS.etcd * 1000 });
  }
  if (touched.includes('haproxy')) {
    await waitUntil('HAProxy :5000 → the leader', () => haproxyRoutesToLeader(conn), { ...wait, timeoutMs: DEPLOY_WAITS.haproxy * 1000 });
  }
}

/**
 * The node failed: its previous release becomes live again, the same services are reconciled
 * with it (compose recreates what had changed), config readers reload. The error is kept with
 * what was done, for the report.
 */
async function rollBack(run: DeployRun, ctx: Ctx, c: NodeChanges, err: unknown): Promise<void> {
  const to = c.current ?? run.snapshotId;
  const conn = await run.pool.get(ctx.node);
  ctx.log(`failed: ${errorMessage(err).split('\n')[0]} — rolling back to ${to}`);
  try {
    await conn.run(activateCommand(run.env.baseDir, to), { timeoutMs: 30_000 });
    const reloads: ReloadEntry[] = c.reload;
    for (const r of reloads) await conn.run(reloadCommand(r), { timeoutMs: 120_000 });
    // what was recreated goes back to its previous definition; what was removed comes back
    const services = [...c.recreate.filter((s) => !ROLLING.has(s)), ...c.orphans];
    if (services.length) await upServices(conn, run.env.baseDir, previousComposeFiles(c), services, { waitSec: DEPLOY_WAITS.services });
    await gates(run, ctx.node, [...services, ...reloads.map((r) => r.service)], { ...ctx, signal: new AbortController().signal });
    run.rolledBack = { node: ctx.node.name, to, error: errorMessage(err) };
    note(run, ctx.node.name, { kind: 'rolled-back', to });
  } catch (again) {
    run.rolledBack = { node: ctx.node.name, to: `${to} (FAILED: ${errorMessage(again).split('\n')[0]})`, error: errorMessage(err) };
  }
  if (err instanceof ServiceError) run.failure = err;
}

