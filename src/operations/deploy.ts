import { runDeploy } from '../deploy/orchestrate.js';
import { listCommand, parseList, type ReleaseEntry } from '../deploy/release.js';
import type { NodeConfig } from '../config/model.js';
import { ROLES, type Role } from '../config/roles.js';
import { EXIT, UsageError } from '../errors.js';
import { renderGated } from './gate.js';
import { operate, type Operation } from '../session/operation.js';
import { guardProd, requireEnvFile, type Session } from '../session/session.js';

/** --roles: nodes with at least one of these roles (on top of --nodes). */
function byRoles(ctx: Session, roles: string | undefined): NodeConfig[] {
  if (roles === undefined) return ctx.config.nodes;
  const wanted = roles.split(',').map((r) => r.trim()).filter(Boolean);
  const bad = wanted.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (bad.length || wanted.length === 0) throw new UsageError(`--roles: unknown role ${bad.join(', ') || '(none)'}`, [`roles: ${ROLES.join(', ')}`]);
  const nodes = ctx.config.nodes.filter((n) => n.roles.some((r) => wanted.includes(r as Role)));
  if (nodes.length === 0) throw new UsageError(`--roles ${roles}: no selected node has these roles`);
  return nodes;
}

export interface DeployFlags {
  dryRun: boolean;
  lockWaitSec: number;
  roles?: string | undefined;
}

/** `twincigo deploy`: render, compare with what runs, change only what differs. */
export async function deploy(ctx: Session, f: DeployFlags): Promise<number> {
  requireEnvFile(ctx);
  const nodes = byRoles(ctx, f.roles);
  // rendered and validated (every node, so the cluster-wide files agree) before any node is contacted
  const bundles = renderGated(ctx.config.env, ctx.config.env.nodes, ctx.values).filter((b) => nodes.some((n) => n.name === b.node));
  const guard = f.dryRun ? {} : { guard: `deploy changes ${ctx.config.env.name}.` };
  return operate(ctx, (op) => runDeploy(op, { dryRun: f.dryRun, lockWaitSec: f.lockWaitSec, nodes, bundles, command: 'deploy' }), guard);
}

/** Each node's releases, as the node lists them. */
const listReleases = (op: Operation, nodes: NodeConfig[]) =>
  Promise.all(nodes.map(async (n) => parseList((await (await op.pool.get(n)).run(listCommand(op.session.config.env.baseDir), { timeoutMs: 30_000 })).stdout)));

/** `twincigo releases`: what each node has, and which one is live. */
export function releases(ctx: Session): Promise<number> {
  return operate(ctx, async (op) => {
    const found = await listReleases(op, ctx.config.nodes);
    const lists = ctx.config.nodes.map((n, i) => [n.name, found[i]!] as const);
    ctx.ui.json({ environment: ctx.config.env.name, nodes: Object.fromEntries(lists) });
    const row = (node: string, r: ReleaseEntry) => `  ${node.padEnd(18)} ${r.current ? '*' : ' '} ${r.id.padEnd(16)} ${r.meta ? `${r.meta.command.padEnd(10)} ${r.meta.by}  ${r.meta.createdAt}` : ''}`.trimEnd();
    const rows = lists.flatMap(([node, rs]) => (rs.length ? rs.map((r) => row(node, r)) : [`  ${node.padEnd(18)}   (no release: bootstrapped, never deployed)`]));
    ctx.ui.print([`releases on ${ctx.config.env.name} (* live):`, ...rows].join('\n'));
    return EXIT.ok;
  });
}

/** The release before the live one on a node. */
export function previousRelease(rs: ReleaseEntry[]): string | undefined {
  const i = rs.findIndex((r) => r.current);
  return i > 0 ? rs[i - 1]!.id : undefined;
}

/** `twincigo rollback [--to RELEASE]`: make an earlier release live again, the same way a deploy does. */
export function rollback(ctx: Session, f: { to?: string | undefined; dryRun: boolean; lockWaitSec: number; roles?: string | undefined }): Promise<number> {
  requireEnvFile(ctx);
  const nodes = byRoles(ctx, f.roles);
  return operate(ctx, async (op) => {
    const lists = await listReleases(op, nodes);
    const targets = new Map<string, string>();
    nodes.forEach((n, i) => {
      const rs = lists[i]!;
      const to = f.to ?? previousRelease(rs);
      if (to === undefined) throw new UsageError(`${n.name} has no release before ${rs.find((r) => r.current)?.id ?? 'the live files'}`, ['twincigo releases lists what each node has; --nodes rolls back some nodes only']);
      if (!rs.some((r) => r.id === to)) throw new UsageError(`${n.name} has no release ${to}`, [`it has: ${rs.map((r) => r.id).join(', ') || 'none'}`]);
      targets.set(n.name, to);
    });
    const ids = [...new Set(targets.values())];
    const label = ids.length === 1 ? ids[0]! : 'the previous release of each node';
    if (!f.dryRun) await guardProd(ctx, `rollback to ${label} changes ${ctx.config.env.name}.`);
    return runDeploy(op, { dryRun: f.dryRun, lockWaitSec: f.lockWaitSec, nodes, bundles: null, targets, releaseId: ids.length === 1 ? ids[0]! : 'previous', command: 'rollback' });
  });
}
