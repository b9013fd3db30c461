import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Sets keys in a dotenv file, keeping its comments and order: existing `KEY=` lines are replaced
 * in place, new keys appended. Written atomically (temporary file + rename), mode 0600.
 */
export function updateEnvFile(file: string, updates: Map<string, string>, template?: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : (template ?? '');
  const pending = new Map(updates);
  const lines = text.split('\n').map((line) => {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    if (!m || !pending.has(m[1]!)) return line;
    const v = pending.get(m[1]!)!;
    pending.delete(m[1]!);
    return `${m[1]}=${v}`;
  });
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  for (const [k, v] of pending) lines.push(`${k}=${v}`);
  const tmp = join(dirname(file), `.${basename(file)}.twincigo-${process.pid}`);
  writeFileSync(tmp, `${lines.join('\n')}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
