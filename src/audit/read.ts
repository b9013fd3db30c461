import { auditFile } from './write.js';
import { root, type Command } from '../remote/shell.js';

/** The last lines of a node's audit log; a node without one prints nothing. */
export const readAuditCommand = (baseDir: string, lines: number): Command =>
  root('sh', '-c', '[ -r "$1" ] || exit 0; tail -n "$2" -- "$1"', 'sh', auditFile(baseDir), String(lines));

export interface AuditEntry {
  node: string;
  time: string;
  line: string;
}

/** Every node's lines merged by their timestamp (ISO 8601 at the start of each line), oldest first; the last `lines`. */
export function mergeAudit(perNode: Array<{ node: string; text: string }>, lines: number): AuditEntry[] {
  const all: AuditEntry[] = [];
  for (const { node, text } of perNode) {
    for (const line of text.split('\n').filter(Boolean)) {
      const time = /^(\S+)/.exec(line)?.[1] ?? '';
      all.push({ node, time, line: line.slice(time.length).trim() });
    }
  }
  all.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.node.localeCompare(b.node)));
  return all.slice(-lines);
}
