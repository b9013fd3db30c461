import { hostProblem, privateAddressProblem } from '../config/address.js';
import { removeNodeEntry, setNodeAddress, type EditResult } from '../config/inventory-edit.js';
import { UsageError } from '../errors.js';
import { runRemove, runReplace } from '../membership/orchestrate.js';
import { removalProblems } from '../membership/remove.js';
import { withNodeAddress, type Replacement } from '../membership/replacement.js';
import { operate } from '../session/operation.js';
import { requireEnvFile, type Session } from '../session/session.js';
import type { Ui } from '../output/ui.js';
import { renderGated } from './gate.js';

export interface NodeFlags {
  cloneFrom: Replacement['cloneFrom'];
  firewall: boolean;
  shipImages: boolean;
  lockWaitSec: number;
}
export interface NodeReplaceFlags extends NodeFlags {
  host?: string | undefined;
  privateAddress?: string | undefined;
}

function wholeEnvironment(ctx: Session, what: string): void {
  requireEnvFile(ctx);
  if (ctx.options.nodes) throw new UsageError(`node ${what} works on the whole environment: drop --nodes`);
}

const reportEdit = (ui: Ui, res: EditResult, what: string) =>
  res.edited ? ui.info(`inventory ${res.file}: ${what} ${res.lines.join(', ') || 'already so'}`) : ui.warn(`inventory not changed (${res.why}); by hand:\n  ${res.lines.join('\n  ')}`);

/**
 * `twincigo node replace <node>`: a dead node onto a bare machine. Everything is rendered for the
 * environment with the replacement's address before any node is contacted; the inventory takes
 * the new address after success (or the lines to change are printed).
 */
export async function nodeReplace(ctx: Session, name: string, flags: NodeReplaceFlags): Promise<number> {
  wholeEnvironment(ctx, 'replace');
  for (const [flag, value, problem] of [['--host', flags.host, hostProblem], ['--private-address', flags.privateAddress, privateAddressProblem]] as const) {
    const p = value === undefined ? null : problem(value);
    if (p) throw new UsageError(`${flag} ${p}`);
  }
  const before = ctx.config.env;
  const env = withNodeAddress(before, name, flags.host, flags.privateAddress);
  const old = before.nodes.find((n) => n.name === name)!;
  const now = env.nodes.find((n) => n.name === name)!;
  if (env.nodes.filter((n) => n.roles.includes('etcd')).length < 3) throw new UsageError(`${env.name} has fewer than three etcd members: a replacement needs the quorum of the others`);
  const r: Replacement = { name, oldAddress: old.privateAddress, address: now.privateAddress, cloneFrom: flags.cloneFrom, kind: 'replace' };
  const session: Session = { ...ctx, config: { ...ctx.config, env, nodes: env.nodes } };
  const bundles = renderGated(env, env.nodes, ctx.values);
  const moved = now.host !== old.host || now.privateAddress !== old.privateAddress;
  let code: number;
  try {
    code = await operate(session, (op) => runReplace(op, bundles, r, flags), { guard: `node replace ${name} changes every node of ${env.name}.` });
  } catch (err) {
    if (moved) ctx.ui.warn(`the inventory still says ${old.host} for ${name}: run node replace again with the same flags to finish`);
    throw err;
  }
  if (moved) reportEdit(ctx.ui, setNodeAddress(ctx.config.file, { env: env.name, node: name, host: now.host, privateAddress: now.privateAddress }), name);
  return code;
}

/** `twincigo node add <node>`: a node the inventory lists but the cluster has not had joins it (etcd stays odd). */
export async function nodeAdd(ctx: Session, name: string, flags: NodeFlags): Promise<number> {
  wholeEnvironment(ctx, 'add');
  const env = ctx.config.env;
  const node = env.nodes.find((n) => n.name === name);
  if (!node) throw new UsageError(`no node ${name} in ${env.name}`, [`add it to the inventory first (name, host, roles), then run node add ${name}`]);
  // an even etcd is refused by the inventory's own checks (config load) before this runs
  const r: Replacement = { name, oldAddress: node.privateAddress, address: node.privateAddress, cloneFrom: flags.cloneFrom, kind: 'add' };
  const bundles = renderGated(env, env.nodes, ctx.values);
  return operate(ctx, (op) => runReplace(op, bundles, r, flags), { guard: `node add ${name} changes every node of ${env.name}.` });
}

/** `twincigo node remove <node>`: the node out of the cluster (at least three nodes, etcd odd, every role kept); the inventory loses its entry after success. */
export async function nodeRemove(ctx: Session, name: string, flags: NodeFlags): Promise<number> {
  wholeEnvironment(ctx, 'remove');
  const env = ctx.config.env;
  const problems = removalProblems(env, name);
  if (problems.length) throw new UsageError(`node remove ${name}: ${problems.join('; ')}`);
  const node = env.nodes.find((n) => n.name === name)!;
  const rest = { ...env, nodes: env.nodes.filter((n) => n.name !== name) };
  if (rest.initialLeader === name) rest.initialLeader = rest.nodes.find((n) => n.roles.includes('patroni'))!.name;
  const bundle = renderGated(env, [node], ctx.values)[0]!;
  const bundles = renderGated(rest, rest.nodes, ctx.values);
  const session: Session = { ...ctx, config: { ...ctx.config, env: rest, nodes: rest.nodes } };
  const code = await operate(session, (op) => runRemove(op, bundles, { node, bundle }, flags), { guard: `node remove ${name} changes every node of ${env.name}.` });
  reportEdit(ctx.ui, removeNodeEntry(ctx.config.file, env.name, name), name);
  return code;
}
