import { EXIT } from '../errors.js';
import { mergeAudit, readAuditCommand } from '../audit/read.js';
import type { Session } from '../session/session.js';
import { operate } from '../session/operation.js';

/** `twincigo audit [--lines N]`: every node's audit log, merged by time. */
export function audit(ctx: Session, lines: number): Promise<number> {
  return operate(ctx, async ({ pool }) => {
    const missing: string[] = [];
    const perNode = await Promise.all(
      ctx.config.nodes.map(async (node) => {
        try {
          const res = await (await pool.get(node)).run(readAuditCommand(ctx.config.env.baseDir, lines));
          return { node: node.name, text: res.stdout };
        } catch (err) {
          missing.push(`${node.name}: ${(err as Error).message}`);
          return { node: node.name, text: '' };
        }
      }),
    );
    const entries = mergeAudit(perNode, lines);
    for (const m of missing) ctx.ui.warn(`audit log not read — ${m}`);
    ctx.ui.json({ environment: ctx.config.env.name, entries, unreachable: missing });
    const width = Math.max(0, ...entries.map((e) => e.node.length));
    ctx.ui.print(entries.length === 0 ? `no audit lines in ${ctx.config.env.name}` : entries.map((e) => `${e.time}  ${e.node.padEnd(width)}  ${e.line}`).join('\n'));
    return missing.length > 0 ? EXIT.failed : EXIT.ok;
  });
}
