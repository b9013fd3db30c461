import { renameSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { PASSPHRASE_ENV } from '../passphrase.js';
import { SshConnection } from '../connection.js';
import { SshError } from '../errors.js';
import { KnownHosts } from '../known-hosts.js';
import type { SshTarget } from '../target.js';
import { frameLine, lineParser, type PersistFrame, type PersistRequest } from './protocol.js';
import { targetKey, type PersistSpec } from './socket.js';

interface Held {
  conn?: SshConnection;
  active: number;
  idleMs: number;
  idle?: NodeJS.Timeout;
}

/**
 * The holder: one background process per user that keeps SSH connections open between commands
 * and runs the commands its clients send over a private Unix socket — OpenSSH's ControlPersist,
 * for ssh2. It connects with strict host key checking (never recording a new key: the command
 * that asked connected first) and only a passphrase from the environment. A connection unused for
 * its idle time is closed, as is one whose keepalives fail (a dead node); the holder exits when it
 * holds none, or on SIGTERM. A command for a node it has no connection to is refused at once
 * (the client then connects directly) and that connection is opened for the next one.
 */
export async function runHolder(spec: PersistSpec): Promise<void> {
  if ((await holderPid(spec.socket)) !== undefined) return; // another holder serves this user already
  const held = new Map<string, Held>();
  // read at each connection, not once: the holder outlives commands, and the file changes under it
  // (a node replaced: its new key in, the old one out) — a cached copy kept trusting a removed key
  // and refused the new one, so every command fell back to a new login (a CI run's status test)
  const knownHosts = (file: string) => new KnownHosts(file);
  let mine: SocketFile | undefined;
  let server: ReturnType<typeof createServer> | undefined;

  const shutdown = () => {
    try {
      // a newer holder may have taken the path over: leave its socket alone
      if (mine && sameFile(mine, socketFile(spec.socket))) rmSync(spec.socket);
    } catch {
      /* already gone */
    }
    server?.close();
    for (const h of held.values()) h.conn?.close();
    setTimeout(() => process.exit(0), 100).unref();
  };
  const drop = (key: string, h: Held) => {
    clearTimeout(h.idle);
    if (held.get(key) === h) held.delete(key);
    h.conn?.close();
    if (held.size === 0) shutdown();
  };
  const arm = (key: string, h: Held) => {
    clearTimeout(h.idle);
    if (h.active === 0) h.idle = setTimeout(() => drop(key, h), h.idleMs);
  };
  const hold = (target: SshTarget, idleMs: number): Held => {
    const key = targetKey(target);
    const existing = held.get(key);
    if (existing) return existing;
    const h: Held = { active: 1, idleMs };
    held.set(key, h);
    SshConnection.open(target, {
      acceptNewHostKeys: false,
      knownHosts,
      passphrase: async () => {
        const p = process.env[PASSPHRASE_ENV];
        if (p === undefined) throw new Error(`${PASSPHRASE_ENV} is not set`);
        return p;
      },
    }).then(
      (conn) => {
        h.conn = conn;
        h.active--;
        conn.onClose(() => drop(key, h));
        arm(key, h);
      },
      () => drop(key, h),
    );
    return h;
  };

  server = createServer((sock) => serveOne(sock, held, hold, arm));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // Bound under a name of its own, then renamed over the path (replacing a stale file at once):
  // closing a server unlinks the path it was bound to, which by then may be a newer holder's.
  const bound = `${spec.socket}.${process.pid}`;
  rmSync(bound, { force: true });
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(bound, () => resolve());
  });
  try {
    renameSync(bound, spec.socket);
  } catch (err) {
    server.close(); // unlinks `bound`
    throw err;
  }
  mine = socketFile(spec.socket);
  for (const { target, idleMs } of spec.targets) hold(target, idleMs);
  if (held.size === 0) shutdown();
}

/** A file's identity: inode numbers alone are reused once a file is gone. */
interface SocketFile {
  ino: bigint;
  bornNs: bigint;
}
const socketFile = (path: string): SocketFile => {
  const st = statSync(path, { bigint: true });
  return { ino: st.ino, bornNs: st.birthtimeNs };
};
const sameFile = (a: SocketFile, b: SocketFile) => a.ino === b.ino && a.bornNs === b.bornNs;

/** One client: its request line, then the command's frames, then the socket is closed. */
function serveOne(sock: Socket, held: Map<string, Held>, hold: (t: SshTarget, idleMs: number) => Held, arm: (key: string, h: Held) => void): void {
  let asked = false;
  const gone = new AbortController();
  const send = (f: PersistFrame) => {
    if (!sock.destroyed) sock.write(frameLine(f));
  };
  sock.on('error', () => undefined);
  sock.on('close', () => gone.abort()); // the client left: stop its command on the node
  sock.on(
    'data',
    lineParser<PersistRequest>((req) => {
      if (asked) return;
      asked = true;
      if (req.op === 'ping') return void (send({ t: 'pong', pid: process.pid }), sock.end());
      const key = targetKey(req.target);
      const h = held.get(key);
      if (!h?.conn?.isOpen) {
        if (!h) hold(req.target, req.idleMs); // for the next command
        send({ t: 'fail', kind: 'closed', message: 'no kept connection to this node yet' });
        return void sock.end();
      }
      h.active++;
      clearTimeout(h.idle);
      h.conn
        .exec(req.command, {
          timeoutMs: req.timeoutMs,
          signal: gone.signal,
          ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
          onStart: () => send({ t: 'start' }),
          onStdout: (d) => send({ t: 'out', d }),
          onStderr: (d) => send({ t: 'err', d }),
        })
        .then(
          (r) => send({ t: 'exit', code: r.code, ...(r.signal ? { signal: r.signal } : {}) }),
          (err: Error) =>
            send(
              err instanceof SshError
                ? { t: 'fail', kind: err.kind, message: err.message.slice(err.node.length + 2) }
                : { t: 'fail', kind: 'other', message: err.message },
            ),
        )
        .finally(() => {
          sock.end();
          h.active--;
          arm(key, h);
        });
    }),
  );
}

/** The process id of the live holder answering a ping on this socket within half a second, if any. */
export function holderPid(socket: string, timeoutMs = 500): Promise<number | undefined> {
  return new Promise((resolve) => {
    const sock = createConnection(socket);
    const done = (pid: number | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(pid);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('connect', () => sock.write(frameLine({ op: 'ping' })));
    sock.on('data', lineParser<PersistFrame>((f) => done(f.t === 'pong' ? f.pid : undefined)));
  });
}

/** `twincigo __ssh-persist`: the spec on stdin; nothing printed (stdout/stderr go nowhere). */
export async function holderMain(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  try {
    await runHolder(JSON.parse(Buffer.concat(chunks).toString('utf8')) as PersistSpec);
  } catch {
    process.exit(1); // could not listen: the next command connects directly again
  }
}
