import { TwincigoError } from '../errors.js';
import { compose } from '../remote/compose.js';
import { withEnv } from '../remote/shell.js';
import type { SshConnection } from '../ssh/connection.js';

/** A compose command failed on a node; carries the last log lines of the services involved. */
export class ServiceError extends TwincigoError {
  constructor(
    message: string,
    readonly node: string,
    readonly logs: string,
  ) {
    super(message);
  }
}

export interface UpResult {
  /** Containers compose created, recreated or started (empty: everything already ran as configured). */
  changed: string[];
}

/** Containers that compose's progress says it created, recreated or started. */
export function changedContainers(output: string): string[] {
  const out = new Set<string>();
  for (const line of output.split('\n')) {
    const m = /Container (\S+)\s+(Created|Recreated|Started)\b/.exec(line);
    if (m) out.add(m[1]!);
  }
  return [...out];
}

export const upCommand = (baseDir: string, files: readonly string[], services: readonly string[], waitSec?: number) =>
  compose(baseDir, files, 'up', '-d', '--no-build', ...(waitSec ? ['--wait', '--wait-timeout', String(waitSec)] : []), ...services);

export const logsCommand = (baseDir: string, files: readonly string[], services: readonly string[], lines = 30) =>
  compose(baseDir, files, 'logs', '--no-color', '--timestamps', '--tail', String(lines), ...services);

/**
 * `compose up -d` of some services (with --wait: until they are healthy). Running services whose
 * configuration did not change are left alone — compose does not restart them. On failure the
 * error carries the last log lines of those services on that node.
 */
export async function upServices(
  conn: SshConnection,
  baseDir: string,
  files: readonly string[],
  services: readonly string[],
  opts: { waitSec?: number; signal?: AbortSignal; env?: Record<string, string> } = {},
): Promise<UpResult> {
  const timeoutMs = ((opts.waitSec ?? 0) + 180) * 1000;
  const res = await conn.exec(withEnv(upCommand(baseDir, files, services, opts.waitSec), opts.env ?? {}), { timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (res.code === 0) return { changed: changedContainers(`${res.stdout}\n${res.stderr}`) };
  const logs = await conn.exec(logsCommand(baseDir, files, services), { timeoutMs: 30_000 }).then((r) => r.stdout + r.stderr, () => '(logs unavailable)');
  const why = res.stderr.trim().split('\n').filter(Boolean).slice(-2).join('; ') || `exit ${res.code}`;
  throw new ServiceError(`${services.join(', ')} did not come up: ${why}`, conn.target.label, logs.trim());
}
