import { EXIT, InterruptedError, UsageError } from '../errors.js';
import { nodePrefixes, PrefixedLines } from '../output/lines.js';
import { servicesFor } from '../stack/compose-files.js';
import { logsCommand, type LogsOptions } from '../remote/logs.js';
import type { Session } from '../session/session.js';
import { operate } from '../session/operation.js';

/** `twincigo logs <service>`: the service's logs from every (selected) node that runs it, each line prefixed with its node. */
export async function logs(ctx: Session, service: string, o: LogsOptions & { grep?: string | undefined }): Promise<number> {
  const env = ctx.config.env;
  const all = [...new Set(env.nodes.flatMap((n) => servicesFor(n.roles, env)))].sort();
  if (!all.includes(service)) throw new UsageError(`no service ${service} in ${env.name}`, [`services: ${all.join(', ')}`]);
  const nodes = ctx.config.nodes.filter((n) => servicesFor(n.roles, env).includes(service));
  if (nodes.length === 0) throw new UsageError(`${service} does not run on ${ctx.config.nodes.map((n) => n.name).join(', ')}`);
  let grep: RegExp | undefined;
  try {
    grep = o.grep ? new RegExp(o.grep) : undefined;
  } catch (err) {
    throw new UsageError(`--grep: ${(err as Error).message}`);
  }
  const prefixes = nodePrefixes(nodes.map((n) => n.name), ctx.ui.isTTY && ctx.options.color);
  return operate(ctx, async ({ pool, signal }) => {
    const failures: string[] = [];
    await Promise.all(
      nodes.map(async (node) => {
        const out = new PrefixedLines(prefixes.get(node.name)!, (l) => process.stdout.write(l), (l) => !grep || grep.test(l));
        try {
          const conn = await pool.get(node);
          const res = await conn.exec(logsCommand(service, o), { onStdout: (c) => out.push(c), signal, ...(o.follow ? { timeoutMs: 2 ** 31 - 1 } : {}) });
          out.end();
          if (res.code !== 0) failures.push(`${node.name}: docker logs exited ${res.code}`);
        } catch (err) {
          out.end();
          if (!signal.aborted) failures.push(`${node.name}: ${(err as Error).message}`);
        }
      }),
    );
    for (const f of failures) ctx.ui.warn(f);
    // Ctrl-C ends -f as it ends every command: exit 130 (as tail -f does), after the lines already shown
    if (signal.aborted) throw new InterruptedError('logs stopped');
    return failures.length > 0 ? EXIT.failed : EXIT.ok;
  });
}
