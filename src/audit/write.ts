import type { NodeConfig } from '../config/model.js';
import { and, root } from '../remote/shell.js';
import type { SshConnection } from '../ssh/connection.js';

/**
 * The audit log: one append-only file per node (`<base>/audit.log`), one line per event —
 * `time user= env= command= result= "detail"`. Written here, read by audit/read.ts.
 */
/** One audit line per event: time, who, env, command, result. */
export function auditLine(d: { by: string; env: string; command: string; result: string; detail?: string }): string {
  return `${new Date().toISOString()} user=${d.by} env=${d.env} command=${JSON.stringify(d.command)} result=${d.result}${d.detail ? ` ${JSON.stringify(d.detail)}` : ''}`;
}
export const auditFile = (baseDir: string) => `${baseDir}/audit.log`;
export const appendAuditCommand = (baseDir: string) =>
  and(root('mkdir', '-p', '--', baseDir), root('sh', '-c', 'cat >> "$1"', 'sh', auditFile(baseDir)));

/** Appends one audit line on every node; a node that cannot be reached is reported, not fatal. */
export async function auditEverywhere(
  pool: { get(n: NodeConfig): Promise<SshConnection> },
  nodes: readonly NodeConfig[],
  baseDir: string,
  line: string,
  warn: (msg: string) => void,
): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      try {
        await (await pool.get(n)).run(appendAuditCommand(baseDir), { stdin: `${line}\n`, timeoutMs: 15_000 });
      } catch (err) {
        warn(`${n.name}: audit line not written (${(err as Error).message})`);
      }
    }),
  );
}

