import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeConfig } from '../../src/config/model.js';
import type { SshSettings } from '../../src/config/schema.js';
import { holderPid } from '../../src/ssh/persist/holder.js';
import { KeptConnections } from '../../src/ssh/persist/kept.js';
import { lineParser } from '../../src/ssh/persist/protocol.js';
import { holderSocket, persistIdleMs, targetKey } from '../../src/ssh/persist/socket.js';
import { SshPool } from '../../src/ssh/pool.js';
import { resolveTarget } from '../../src/ssh/target.js';
import { keygen, startSshd, type TestSshd } from '../helpers/sshd.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Connections kept between commands (the holder, src/ssh/persist) against a real sshd. The holder
 * is the built CLI (`bin/twincigo __ssh-persist`, dist/): `npm test` builds first.
 */
let tmp: ReturnType<typeof tempDir>;
let sshd: TestSshd;
let clientKey: string;
let knownHosts: string;
let socket: string;

beforeAll(async () => {
  delete process.env.SSH_AUTH_SOCK;
  delete process.env.TWINCIGO_SSH_PERSIST;
  tmp = tempDir('twincigo-persist-');
  clientKey = join(tmp.dir, 'id_ed25519');
  const pub = keygen(clientKey);
  sshd = await startSshd(tmp.dir, [pub], 'p');
  knownHosts = join(tmp.dir, 'known_hosts');
  writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
  mkdirSync(join(tmp.dir, 'sockets'), { mode: 0o700 });
  socket = join(tmp.dir, 'sockets', 'holder.sock');
});
afterAll(async () => {
  await sshd?.stop();
  tmp?.cleanup();
});

const node = (over: Partial<SshSettings> = {}): NodeConfig => ({
  name: 'n1',
  host: '127.0.0.1',
  privateAddress: '127.0.0.1',
  roles: ['patroni'],
  ssh: { config: false, user: 'twincigo-sudo', identity: clientKey, knownHosts, port: sshd.port, connectTimeout: 3, ...over },
});

/** A fresh pool, as a new invocation of the CLI has. */
const newPool = () =>
  new SshPool(tmp.dir, { acceptNewHostKeys: false, passphrase: async () => Promise.reject(new Error('no passphrase expected')) });

const connections = (pool: SshPool) => (pool as unknown as { connections: Map<string, unknown> }).connections.size;

/** One command: a fresh pool and kept connections, flushed (a holder started if needed) at its end. */
async function command(n: NodeConfig, cmd = 'echo "$SSH_CONNECTION"', opts = {}) {
  const pool = newPool();
  const kept = new KeptConnections(pool, socket);
  const r = await (await kept.get(n)).exec(cmd, { timeoutMs: 10_000, ...opts });
  kept.flush();
  const direct = connections(pool) > 0;
  await pool.closeAll();
  return { r, direct, via: r.stdout.trim().split(' ').slice(0, 2).join(':') };
}

/**
 * A server put at the socket path as holders do it: bound elsewhere, renamed over the path (a
 * server bound at the path itself would unlink whatever is there when it closes).
 */
async function serverAtSocket(): Promise<Server> {
  const server = createServer(() => undefined); // accepts, never answers
  await new Promise<void>((r) => server.listen(`${socket}.test`, r));
  renameSync(`${socket}.test`, socket);
  return server;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(what: string, ok: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('connections kept between commands', () => {
  it('the first command connects and starts the holder; the next ones reuse its connection; idle, it exits', async () => {
    const n = node({ persist: 3 });
    const first = await command(n);
    expect(first.direct).toBe(true);
    await waitFor('the holder socket', () => existsSync(socket));
    // the holder connects in the background: until then a command still connects directly
    let second = await command(n);
    for (let i = 0; i < 50 && second.direct; i++) second = await command(n);
    const third = await command(n);
    expect(second.direct).toBe(false);
    expect(third.direct).toBe(false);
    expect(third.via).toBe(second.via); // one kept connection
    expect(second.via).not.toBe(first.via); // the holder's own
    // exit codes, stderr and stdin cross the holder unchanged
    const r = (await command(n, 'cat; echo oops >&2; exit 3', { stdin: 'in' })).r;
    expect(r).toMatchObject({ code: 3, stdout: 'in', stderr: 'oops\n' });
    // a second node: refused at first (the holder connects to it), then kept too
    const other = node({ persist: 3, user: 'root' });
    expect((await command(other)).direct).toBe(true);
    let k = await command(other);
    for (let i = 0; i < 50 && k.direct; i++) k = await command(other);
    expect(k.direct).toBe(false);
    // unused for persist seconds: both connections closed, the holder gone
    await waitFor('the idle holder to exit', () => !existsSync(socket), 10_000);
  }, 40_000);

  it('a holder that does not answer is passed over within a second, and replaced', async () => {
    const n = node({ persist: 2 });
    const hung = await serverAtSocket();
    const hungInode = statSync(socket).ino;
    try {
      const started = Date.now();
      const c = await command(n);
      expect(c.direct).toBe(true);
      expect(c.r.code).toBe(0);
      expect(Date.now() - started).toBeLessThan(4000);
      // a new holder took the path over (a new socket file there): later commands go through it
      await waitFor('a new holder', () => {
        try {
          return statSync(socket).ino !== hungInode;
        } catch {
          return false;
        }
      });
      let again = await command(n);
      for (let i = 0; i < 50 && again.direct; i++) again = await command(n);
      expect(again.direct).toBe(false);
    } finally {
      hung.close();
    }
    await waitFor('the idle holder to exit', () => !existsSync(socket), 10_000);
  }, 30_000);

  it("a holder that exits leaves a newer holder's socket in place", async () => {
    const n = node({ persist: 1 });
    expect((await command(n)).direct).toBe(true);
    let pid: number | undefined;
    await waitFor('the holder answering', () => existsSync(socket));
    for (let i = 0; i < 40 && pid === undefined; i++) pid = await holderPid(socket);
    expect(pid).toBeGreaterThan(0);
    const newer = await serverAtSocket(); // a newer holder took the path over
    try {
      const { ino, birthtimeMs } = statSync(socket);
      await waitFor('the old holder to exit (idle)', () => !alive(pid!), 10_000);
      await sleep(200);
      expect(statSync(socket)).toMatchObject({ ino, birthtimeMs });
    } finally {
      newer.close();
      rmSync(socket, { force: true });
    }
  }, 30_000);

  it('the holder reads known_hosts at each connection: a key revoked while it runs is refused by it too', async () => {
    const n = node({ persist: 3 });
    expect((await command(n)).direct).toBe(true);
    let k = await command(n);
    for (let i = 0; i < 50 && k.direct; i++) k = await command(n);
    expect(k.direct).toBe(false); // the holder runs, holding n
    writeFileSync(knownHosts, `${sshd.knownHostsLine}\n@revoked ${sshd.knownHostsLine}\n`);
    try {
      // another way in to the same host: the holder opens a new connection for it — with the file
      // as it is now (a copy read when it started would still trust the key and serve the command)
      const other = node({ persist: 3, user: 'root' });
      for (let i = 0; i < 15; i++) {
        await expect(command(other)).rejects.toThrow(/revoked/);
        await sleep(100);
      }
    } finally {
      writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
    }
    await waitFor('the idle holder to exit', () => !existsSync(socket), 10_000);
  }, 40_000);

  it('a stale socket (no process behind it) → a direct connection; TWINCIGO_SSH_PERSIST=0 → never a holder', async () => {
    const n = node({ persist: 2 });
    writeFileSync(socket, ''); // a leftover file, nobody listening
    process.env.TWINCIGO_SSH_PERSIST = '0';
    try {
      expect((await command(n)).direct).toBe(true);
      await sleep(1500);
      expect(existsSync(socket) && statSync(socket).isSocket()).toBe(false);
    } finally {
      delete process.env.TWINCIGO_SSH_PERSIST;
    }
    expect((await command(n)).direct).toBe(true);
    await waitFor('a holder in place of the stale file', () => existsSync(socket) && statSync(socket).isSocket());
    await waitFor('the idle holder to exit', () => !existsSync(socket), 10_000);
  }, 30_000);
});

describe('holder sockets', () => {
  it('live in a directory private to the user, or nowhere', () => {
    const base = join(tmp.dir, 'xdg');
    mkdirSync(base);
    const d = join(base, `twincigo-ssh-${process.getuid!()}`);
    expect(holderSocket({ XDG_RUNTIME_DIR: base })).toBe(join(d, 'holder.sock'));
    chmodSync(d, 0o755);
    expect(holderSocket({ XDG_RUNTIME_DIR: base })).toBeUndefined();
  });

  it('one per way of reaching a node; ssh.persist and TWINCIGO_SSH_PERSIST set the idle time', () => {
    const t = (s: Partial<SshSettings>) => resolveTarget('n', '10.0.0.1', { config: false, identity: clientKey, knownHosts, ...s }, tmp.dir);
    expect(targetKey(t({}))).toBe(targetKey(t({})));
    expect(targetKey(t({ user: 'deploy' }))).not.toBe(targetKey(t({})));
    expect(targetKey(t({ port: 2222 }))).not.toBe(targetKey(t({})));
    expect(targetKey(t({ jump: 'bastion' }))).not.toBe(targetKey(t({})));
    expect(persistIdleMs(t({}), {})).toBe(60_000);
    expect(persistIdleMs(t({ persist: 0 }), {})).toBe(0);
    expect(persistIdleMs(t({ persist: 600 }), { TWINCIGO_SSH_PERSIST: '5' })).toBe(5000);
    expect(persistIdleMs(t({}), { TWINCIGO_SSH_PERSIST: '0' })).toBe(0);
    expect(persistIdleMs(t({}), { TWINCIGO_SSH_PERSIST: 'no' })).toBe(0);
  });

  it('frames split anywhere are put back together', () => {
    const got: unknown[] = [];
    const feed = lineParser((o) => got.push(o));
    const text = '{"t":"out","d":"a\\nb"}\n{"t":"exit","code":0}\n';
    for (const ch of text) feed(ch);
    expect(got).toEqual([{ t: 'out', d: 'a\nb' }, { t: 'exit', code: 0 }]);
  });
});
