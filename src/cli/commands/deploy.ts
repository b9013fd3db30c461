import { runDeploy } from '../../deploy/run.js';
import { listCommand, parseList, type ReleaseEntry } from '../../deploy/release.js';
import type { NodeConfig } from '../../config/model.js';
import { ROLES, type Role } from '../../config/roles.js';
import { EXIT, UsageError } from '../../errors.js';
import { renderEnvironment } from '../../stack/bundle.js';
import { createContext, requireEnvFile, type Context, type GlobalOptions } from '../context.js';
import { sshPool } from '../session.js';

/** --roles: nodes with at least one of these roles (on top of --nodes). */
function byRoles(ctx: Context, roles: string | undefined): NodeConfig[] {
  if (roles === undefined) return ctx.config.nodes;
  const wanted = roles.split(',').map((r) => r.trim()).filter(Boolean);
  const bad = wanted.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (bad.length || wanted.length === 0) throw new UsageError(`--roles: unknown role ${bad.join(', ') || '(none)'}`, [`roles: ${ROLES.join(', ')}`]);
  const nodes = ctx.config.nodes.filter((n) => n.roles.some((r) => wanted.includes(r as Role)));
  if (nodes.length === 0) throw new UsageError(`--roles ${roles}: no selected node has these roles`);
  return nodes;
}

async function guardProd(ctx: Context, what: string): Promise<void> {
  const env = ctx.config.env;
  if (env.profile === 'prod' || env.name === 'prod') await ctx.ui.typeToConfirm(`${what} changes ${env.name}.`, env.name);
}

export interface DeployFlags {
  dryRun: boolean;
  lockWaitSec: number;
  roles?: string | undefined;
}

/** `twincigo deploy`: render, compare with what runs, change only what differs. */
export async function deploy(g: GlobalOptions, f: DeployFlags): Promise<number> {
  const ctx = await createContext(g);
  requireEnvFile(ctx);
  const nodes = byRoles(ctx, f.roles);
  // rendered and validated (every node, so the cluster-wide files agree) before any node is contacted
  const bundles = renderEnvironment(ctx.config.env, ctx.config.env.nodes, ctx.env).filter((b) => nodes.some((n) => n.name === b.node));
  if (!f.dryRun) await guardProd(ctx, 'deploy');
  return runDeploy(ctx, { dryRun: f.dryRun, lockWaitSec: f.lockWaitSec, nodes, bundles, command: 'deploy' });
}

/** `twincigo releases`: what each node has, and which one is live. */
export async function releases(g: GlobalOptions): Promise<number> {
  const ctx = await createContext(g);
  const pool = sshPool(ctx);
  try {
    const lists = await Promise.all(ctx.config.nodes.map(async (n) => [n.name, parseList((await (await pool.get(n)).run(listCommand(ctx.config.env.baseDir), { timeoutMs: 30_000 })).stdout)] as const));
    ctx.ui.json({ environment: ctx.config.env.name, nodes: Object.fromEntries(lists) });
    const rows = lists.flatMap(([node, rs]) => (rs.length ? rs.map((r) => `  ${node.padEnd(18)} ${r.current ? '*' : ' '} ${r.id.padEnd(16)} ${r.meta ? `${r.meta.command.padEnd(10)} ${r.meta.by}  ${r.meta.createdAt}` : ''}`.trimEnd()) : [`  ${node.padEnd(18)}   (no release: bootstrapped, never deployed)`]));
    ctx.ui.print([`releases on ${ctx.config.env.name} (* live):`, ...rows].join('\n'));
    return EXIT.ok;
  } finally {
    await pool.closeAll();
  }
}

/** The release before the live one on a node. */
export function previousRelease(rs: ReleaseEntry[]): string | undefined {
  const i = rs.findIndex((r) => r.current);
  return i > 0 ? rs[i - 1]!.id : undefined;
}

/** `twincigo rollback [--to RELEASE]`: make an earlier release live again, the same way a deploy does. */
export async function rollback(g: GlobalOptions, f: { to?: string | undefined; dryRun: boolean; lockWaitSec: number; roles?: string | undefined }): Promise<number> {
  const ctx = await createContext(g);
  requireEnvFile(ctx);
  const nodes = byRoles(ctx, f.roles);
  const pool = sshPool(ctx);
  const targets = new Map<string, string>();
  try {
    const lists = await Promise.all(nodes.map(async (n) => parseList((await (await pool.get(n)).run(listCommand(ctx.config.env.baseDir), { timeoutMs: 30_000 })).stdout)));
    nodes.forEach((n, i) => {
      const rs = lists[i]!;
      const to = f.to ?? previousRelease(rs);
      if (to === undefined) throw new UsageError(`${n.name} has no release before ${rs.find((r) => r.current)?.id ?? 'the live files'}`, ['twincigo releases lists what each node has; --nodes rolls back some nodes only']);
      if (!rs.some((r) => r.id === to)) throw new UsageError(`${n.name} has no release ${to}`, [`it has: ${rs.map((r) => r.id).join(', ') || 'none'}`]);
      targets.set(n.name, to);
    });
  } finally {
    await pool.closeAll();
  }
  const ids = [...new Set(targets.values())];
  const label = ids.length === 1 ? ids[0]! : 'the previous release of each node';
  if (!f.dryRun) await guardProd(ctx, `rollback to ${label}`);
  return runDeploy(ctx, { dryRun: f.dryRun, lockWaitSec: f.lockWaitSec, nodes, bundles: null, targets, releaseId: ids.length === 1 ? ids[0]! : 'previous', command: 'rollback' });
}
