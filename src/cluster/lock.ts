import { hostname, userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT, TwincigoError } from '../errors.js';
import { and, root } from '../remote/shell.js';
import type { NodeConfig } from '../config/model.js';
import { RemoteCommandError, type SshConnection } from '../ssh/connection.js';

/**
 * The environment's lock (as Kamal's): an atomic `mkdir` on one node — the environment's first —
 * holding a JSON file that says who took it, when, for what. bootstrap and deploy hold it for their
 * whole run; operators can take it by hand to keep them out.
 */
export const lockDir = (baseDir: string) => `${baseDir}/.lock`;
export const lockFile = (baseDir: string) => `${lockDir(baseDir)}/details.json`;

export interface LockDetails {
  by: string;
  command: string;
  env: string;
  since: string;
  message?: string;
}

/** Who runs twincigo: TWINCIGO_OPERATOR, else user@host. */
export function operator(): string {
  return process.env.TWINCIGO_OPERATOR ?? `${userInfo().username}@${hostname()}`;
}

export const acquireCommand = (baseDir: string) =>
  and(root('mkdir', '-p', '--', baseDir), root('mkdir', '--', lockDir(baseDir)), root('sh', '-c', 'cat > "$1"', 'sh', lockFile(baseDir)));
export const releaseCommand = (baseDir: string) => root('rm', '-rf', '--', lockDir(baseDir));
/** Exit 3: not locked; otherwise the holder's details (empty when unreadable). */
export const readCommand = (baseDir: string) =>
  root('sh', '-c', '[ -d "$1" ] || exit 3; cat -- "$1/details.json" 2>/dev/null; exit 0', 'sh', lockDir(baseDir));

export function describeHolder(d: LockDetails): string {
  return `${d.by} (${d.command}${d.message ? `: ${d.message}` : ''}) since ${d.since}`;
}

/** The current holder, or null when the environment is not locked. */
export async function readLock(conn: SshConnection, baseDir: string): Promise<LockDetails | null> {
  const res = await conn.exec(readCommand(baseDir));
  if (res.code === 3) return null;
  if (res.code !== 0) throw new RemoteCommandError(conn.target.label, res);
  try {
    return JSON.parse(res.stdout) as LockDetails;
  } catch {
    return { by: 'unknown', command: 'unknown', env: '?', since: 'unknown' };
  }
}

/** Takes the lock, waiting up to waitMs for the holder to release it; a held lock says who holds it. */
export async function acquireLock(conn: SshConnection, baseDir: string, details: LockDetails, waitMs = 0, onWait?: (holder: string) => void): Promise<void> {
  const until = Date.now() + waitMs;
  for (;;) {
    const res = await conn.exec(acquireCommand(baseDir), { stdin: `${JSON.stringify(details)}\n` });
    if (res.code === 0) return;
    const held = await readLock(conn, baseDir);
    if (!held) {
      // no lock dir, yet mkdir failed: not a held lock (permissions, disk) — or it was released just now
      if (/File exists/.test(res.stderr)) continue;
      throw new TwincigoError(`${conn.target.label}: cannot take the lock in ${lockDir(baseDir)}: ${res.stderr.trim() || `exit ${res.code}`}`);
    }
    if (Date.now() >= until) {
      throw new TwincigoError(`environment ${details.env} is locked by ${describeHolder(held)}`, EXIT.failed, [
        'wait for it to finish (--lock-wait <seconds> waits), or, if its holder is gone: twincigo lock release',
      ]);
    }
    onWait?.(describeHolder(held));
    await sleep(Math.min(2000, Math.max(100, until - Date.now())));
  }
}

export async function releaseLock(conn: SshConnection, baseDir: string): Promise<void> {
  await conn.run(releaseCommand(baseDir));
}

/** Holds the environment's lock while fn runs; released however fn ends (a failed release is reported, not thrown). */
export async function withLock<T>(
  conn: SshConnection,
  baseDir: string,
  details: LockDetails,
  opts: { waitMs: number; onWait?: (holder: string) => void; onReleaseError?: (err: Error) => void },
  fn: () => Promise<T>,
): Promise<T> {
  await acquireLock(conn, baseDir, details, opts.waitMs, opts.onWait);
  try {
    return await fn();
  } finally {
    await releaseLock(conn, baseDir).catch((e: Error) => opts.onReleaseError?.(e));
  }
}
