import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { and, root, run, seq } from '../remote/shell.js';
import type { SshConnection } from './connection.js';
import { SshError } from './errors.js';

export interface UploadFile {
  remotePath: string;
  content: Buffer | string;
  /** e.g. 0o600 for env files; default 0o644 */
  mode?: number;
}

export interface UploadResult {
  remotePath: string;
  action: 'unchanged' | 'uploaded' | 'mode-fixed';
  sha256: string;
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/** Reads sha256 and mode of remote files in one round trip; missing files are absent from the map. */
export async function remoteState(conn: SshConnection, paths: string[]): Promise<Map<string, { sha256: string; mode: number }>> {
  const out = new Map<string, { sha256: string; mode: number }>();
  if (paths.length === 0) return out;
  const res = await conn.exec(seq(root('sha256sum', '--', ...paths), root('stat', '-c', '%a %n', '--', ...paths)));
  const hashes = new Map<string, string>();
  for (const line of res.stdout.split('\n')) {
    const h = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (h) {
      hashes.set(h[2]!, h[1]!);
      continue;
    }
    const s = /^([0-7]{3,4}) (.+)$/.exec(line);
    const hash = s ? hashes.get(s[2]!) : undefined;
    if (s && hash) out.set(s[2]!, { sha256: hash, mode: parseInt(s[1]!, 8) });
  }
  return out;
}

/**
 * Uploads files atomically: written to a temporary file beside the target, its mode set, then
 * renamed over the target — a reader never sees half a file. Files whose sha256 and mode already
 * match are skipped. With a non-root user, the file is staged in /tmp and moved into place with sudo.
 */
export async function upload(conn: SshConnection, files: UploadFile[]): Promise<UploadResult[]> {
  const state = await remoteState(conn, files.map((f) => f.remotePath));
  const results: UploadResult[] = [];
  const pending: Array<UploadFile & { hash: string; mode: number }> = [];
  for (const f of files) {
    const hash = sha256(f.content);
    const mode = f.mode ?? 0o644;
    const current = state.get(f.remotePath);
    if (current?.sha256 === hash) {
      if ((current.mode & 0o7777) === mode) results.push({ remotePath: f.remotePath, action: 'unchanged', sha256: hash });
      else {
        await conn.run(root('chmod', octal(mode), '--', f.remotePath));
        results.push({ remotePath: f.remotePath, action: 'mode-fixed', sha256: hash });
      }
    } else pending.push({ ...f, hash, mode });
  }
  if (pending.length === 0) return results;
  const dirs = [...new Set(pending.map((f) => posix.dirname(f.remotePath)))];
  await conn.run(root('mkdir', '-p', '--', ...dirs));
  const sftp = await conn.sftp();
  for (const f of pending) {
    if (conn.sudo) await viaSudo(conn, sftp, f);
    else await direct(conn, sftp, f);
    results.push({ remotePath: f.remotePath, action: 'uploaded', sha256: f.hash });
  }
  return results;
}

const tmpName = (path: string) => posix.join(posix.dirname(path), `.${posix.basename(path)}.twincigo-${randomBytes(6).toString('hex')}`);

async function direct(conn: SshConnection, sftp: SFTPWrapper, f: UploadFile & { mode: number }): Promise<void> {
  const tmp = tmpName(f.remotePath);
  try {
    await call(conn, `write ${tmp}`, (cb) => sftp.writeFile(tmp, f.content, { mode: f.mode }, cb));
    await call(conn, `chmod ${tmp}`, (cb) => sftp.chmod(tmp, f.mode, cb));
    await call(conn, `rename ${tmp}`, (cb) => sftp.ext_openssh_rename(tmp, f.remotePath, cb));
  } catch (err) {
    await call(conn, 'cleanup', (cb) => sftp.unlink(tmp, cb)).catch(() => undefined);
    throw err;
  }
}

async function viaSudo(conn: SshConnection, sftp: SFTPWrapper, f: UploadFile & { mode: number }): Promise<void> {
  const staged = `/tmp/.twincigo-upload-${randomBytes(8).toString('hex')}`;
  const tmp = tmpName(f.remotePath);
  try {
    await call(conn, `write ${staged}`, (cb) => sftp.writeFile(staged, f.content, { mode: 0o600 }, cb));
    await conn.run(and(root('install', '-m', octal(f.mode), '-T', '--', staged, tmp), root('mv', '-f', '--', tmp, f.remotePath)));
  } finally {
    await conn.exec(run('rm', '-f', '--', staged)).catch(() => undefined);
  }
}

function call(conn: SshConnection, what: string, fn: (cb: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) =>
    fn((err) => (err ? reject(new SshError(conn.target.label, 'other', `sftp ${what} failed: ${err.message}`)) : resolve())),
  );
}
