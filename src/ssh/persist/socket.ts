import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SshTarget } from '../target.js';

/** What the holder process reads on its stdin: where to listen, and the nodes to connect to first. */
export interface PersistSpec {
  socket: string;
  targets: Array<{ target: SshTarget; idleMs: number }>;
}

/** TWINCIGO_SSH_PERSIST (seconds, 0 = off) overrides the inventory's `ssh.persist`. */
export function persistIdleMs(target: SshTarget, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env.TWINCIGO_SSH_PERSIST;
  if (fromEnv !== undefined && fromEnv !== '') {
    const s = Number(fromEnv);
    return Number.isFinite(s) && s > 0 ? s * 1000 : 0;
  }
  return target.persistMs;
}

/**
 * The holder's socket, in a directory private to this user (0700, owned by us): whoever can reach
 * it can run commands on the nodes, as with OpenSSH's ControlPath. None when the directory is not
 * private (then nothing is kept).
 */
export function holderSocket(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const dir = join(env.XDG_RUNTIME_DIR || tmpdir(), `twincigo-ssh-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  const st = lstatSync(dir);
  return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 ? join(dir, 'holder.sock') : undefined;
}

const identity = (t: SshTarget): unknown => ({
  user: t.user,
  host: t.host,
  port: t.port,
  ids: t.identityFiles,
  kh: t.knownHostsFile,
  jump: t.jump ? identity(t.jump) : null,
});

/** One kept connection per way of reaching a node (user, address, keys, known_hosts, jump hosts). */
export const targetKey = (target: SshTarget): string =>
  createHash('sha256').update(JSON.stringify(identity(target))).digest('hex').slice(0, 24);

/** This package's bin/twincigo, found upwards from this module (dist/…, dist/bundle/ or src/…). */
function cliBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const bin = join(dir, 'bin', 'twincigo');
    if (existsSync(bin) && existsSync(join(dir, 'package.json'))) return bin;
    const up = dirname(dir);
    if (up === dir) throw new Error('bin/twincigo not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Starts the detached holder (`twincigo __ssh-persist`) for the next commands; this one does not wait. */
export function spawnHolder(spec: PersistSpec): void {
  const child = spawn(process.execPath, [cliBin(), '__ssh-persist'], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => undefined);
  child.stdin.on('error', () => undefined);
  child.stdin.end(JSON.stringify(spec));
  child.unref();
}
