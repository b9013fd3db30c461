import type { SshPool } from '../ssh/pool.js';
import type { NodeConfig } from '../config/model.js';
import { findLeader } from '../cluster/patroni.js';
import { EXIT, TwincigoError, UsageError } from '../errors.js';
import { nodePrefixes, PrefixedLines } from '../output/lines.js';
import { execIn } from '../remote/compose.js';
import { run, type Command } from '../remote/shell.js';
import { servicesFor } from '../stack/compose-files.js';
import type { Session } from '../session/session.js';
import { operate } from '../session/operation.js';

export interface ExecOptions {
  node?: string | undefined;
  leader: boolean;
  all: boolean;
  in?: string | undefined;
}

/** The nodes to run on: one named node, the Patroni leader's node, or all (--nodes filters). */
async function targets(ctx: Session, pool: SshPool, o: ExecOptions): Promise<NodeConfig[]> {
  const chosen = [o.node !== undefined, o.leader, o.all].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError('say where: a node name, --leader or --all', [`nodes: ${ctx.config.env.nodes.map((n) => n.name).join(', ')}`]);
  if (o.all) return ctx.config.nodes;
  if (o.node !== undefined) {
    const n = ctx.config.env.nodes.find((x) => x.name === o.node);
    if (!n) throw new UsageError(`no node ${o.node} in ${ctx.config.env.name}`, [`nodes: ${ctx.config.env.nodes.map((x) => x.name).join(', ')}`]);
    return [n];
  }
  const leader = await findLeader(pool, ctx.config.env.nodes);
  if (leader) return [leader];
  throw new TwincigoError('no Patroni leader found: the cluster has none, or no node answered');
}

/**
 * `twincigo exec <node|--leader|--all> [--in SERVICE] -- COMMAND…`. One node: attached to this
 * terminal (a pty when one is attached; stdin forwarded), its exit code passed through. Several
 * nodes: in parallel, each output line prefixed with the node; the exit code is the first non-zero.
 */
export function execCommand(ctx: Session, argv: string[], o: ExecOptions): Promise<number> {
  return operate(ctx, async ({ pool, signal }) => {
    const nodes = await targets(ctx, pool, o);
    if (o.in !== undefined) {
      const missing = nodes.filter((n) => !servicesFor(n.roles, ctx.config.env).includes(o.in!)).map((n) => n.name);
      if (missing.length > 0) throw new UsageError(`${o.in} does not run on ${missing.join(', ')}`);
    }
    const tty = nodes.length === 1 && Boolean(process.stdin.isTTY && process.stdout.isTTY);
    const cmd = (interactive: boolean): Command =>
      o.in !== undefined ? execIn(o.in, argv, { stdin: interactive, tty: interactive && tty }) : run(...argv);
    if (nodes.length === 1) {
      const conn = await pool.get(nodes[0]!);
      return await conn.attach(cmd(true), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, pty: tty });
    }
    const prefixes = nodePrefixes(nodes.map((n) => n.name), ctx.ui.isTTY && ctx.options.color);
    const codes = await Promise.all(
      nodes.map(async (node) => {
        const out = new PrefixedLines(prefixes.get(node.name)!, (l) => process.stdout.write(l));
        const err = new PrefixedLines(prefixes.get(node.name)!, (l) => process.stderr.write(l));
        try {
          const res = await (await pool.get(node)).exec(cmd(false), { onStdout: (c) => out.push(c), onStderr: (c) => err.push(c), signal });
          return res.code ?? 255;
        } catch (e) {
          process.stderr.write(`${prefixes.get(node.name)}${(e as Error).message}\n`);
          return 255;
        } finally {
          out.end();
          err.end();
        }
      }),
    );
    return (codes.find((c) => c !== 0) ?? EXIT.ok) as number;
  });
}
