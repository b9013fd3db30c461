import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshConnection, type ConnectOptions } from '../../src/ssh/connection.js';
import { SshError } from '../../src/ssh/errors.js';
import { KnownHosts } from '../../src/ssh/known-hosts.js';
import { resolveTarget, type SshTarget } from '../../src/ssh/target.js';
import { upload, sha256 } from '../../src/ssh/upload.js';
import { run, root, pipe } from '../../src/remote/shell.js';
import type { SshSettings } from '../../src/config/schema.js';
import { freePort, keygen, startSshd, type TestSshd } from '../helpers/sshd.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Real OpenSSH sshd processes on loopback: no mock of ssh2 stands in for these tests. Most tests log
 * in as `twincigo-sudo` (created by tests/setup-machine.sh: /bin/sh, passwordless sudo), so root
 * commands take the `sudo -n` path; the upload tests run as root too (the direct SFTP path).
 */
const SUDO_USER = 'twincigo-sudo';
let tmp: ReturnType<typeof tempDir>;
let a: TestSshd;
let b: TestSshd;
let clientKey: string;
let knownHosts: string;

beforeAll(async () => {
  delete process.env.SSH_AUTH_SOCK;
  tmp = tempDir('twincigo-ssh-');
  clientKey = join(tmp.dir, 'id_ed25519');
  const pub = keygen(clientKey);
  a = await startSshd(tmp.dir, [pub], 'a');
  b = await startSshd(tmp.dir, [pub], 'b');
  knownHosts = join(tmp.dir, 'known_hosts');
  writeFileSync(knownHosts, `${a.knownHostsLine}\n${b.knownHostsLine}\n`);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  tmp?.cleanup();
});

function target(port: number, over: Partial<SshSettings> = {}): SshTarget {
  const ssh: SshSettings = { config: false, user: SUDO_USER, identity: clientKey, knownHosts, port, connectTimeout: 3, ...over };
  return resolveTarget(`node-${port}`, '127.0.0.1', ssh, tmp.dir);
}

function options(over: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    acceptNewHostKeys: false,
    knownHosts: (f) => new KnownHosts(f),
    passphrase: async () => {
      throw new Error('no passphrase expected');
    },
    ...over,
  };
}

async function failure(p: Promise<unknown>): Promise<SshError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SshError);
    return err as SshError;
  }
  throw new Error('expected the connection to fail');
}

describe('exec', () => {
  let conn: SshConnection;
  beforeAll(async () => (conn = await SshConnection.open(target(a.port), options())));
  afterAll(() => conn?.close());

  it('runs a command built as data, quoted once, and returns its output and exit code', async () => {
    const res = await conn.exec(run('printf', '%s|', 'two words', "it's", '$HOME'));
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("two words|it's|$HOME|");
  });

  it('passes non-zero exit codes through without throwing; run() throws with the stderr tail', async () => {
    const res = await conn.exec('echo oops >&2; exit 7');
    expect(res.code).toBe(7);
    expect(res.stderr).toBe('oops\n');
    await expect(conn.run('echo broken >&2; exit 3')).rejects.toThrow(/exited with 3:\s+broken/);
  });

  it("sends once more a docker exec that runc could not start (nothing ran); any other 126 is passed through", async () => {
    const marker = `/tmp/twincigo-runc-${process.pid}-${Date.now()}`;
    const oci = 'OCI runtime exec failed: exec failed: unable to start container process: waiting for init preliminary setup: read init-p: connection reset by peer: unknown';
    // first call: runc's failure (exit 126, nothing run); second: the command itself
    const flaky = `if [ -e ${marker} ]; then echo ran; else touch ${marker}; echo '${oci}' >&2; exit 126; fi`;
    const res = await conn.exec(flaky);
    expect(res).toMatchObject({ code: 0, stdout: 'ran\n' });
    const other = await conn.exec("echo 'permission denied' >&2; exit 126");
    expect(other.code).toBe(126);
    await conn.exec(`rm -f ${marker}`);
  });

  it('streams stdout and stderr while the command runs', async () => {
    const chunks: Array<[string, number]> = [];
    const started = Date.now();
    const res = await conn.exec('for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.3; done', {
      onStdout: (s) => chunks.push([s, Date.now() - started]),
      onStderr: (s) => chunks.push([s, Date.now() - started]),
    });
    expect(res.stdout).toBe('out1\nout2\nout3\n');
    expect(res.stderr).toBe('err1\nerr2\nerr3\n');
    // the first line arrived long before the command ended
    expect(chunks[0]![1]).toBeLessThan(res.durationMs - 400);
  });

  it('feeds stdin', async () => {
    const res = await conn.exec(pipe(run('cat'), run('wc', '-c')), { stdin: 'x'.repeat(100_000) });
    expect(res.stdout.trim()).toBe('100000');
  });

  it('pipes a stream into stdin with backpressure (docker save | docker load over SSH)', async () => {
    // 32 MiB from a generator, far more than the channel window: the stream must pause and resume
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const source = Readable.from((function* () { for (let i = 0; i < 32; i++) yield chunk; })());
    const res = await conn.exec(pipe(run('cat'), run('sha256sum')), { stdin: source, timeoutMs: 60_000 });
    expect(res.code).toBe(0);
    expect(res.stdout.split(' ')[0]).toBe(sha256(Buffer.concat(Array.from({ length: 32 }, () => chunk))));
  });

  it('kills a command that exceeds its timeout and says so', async () => {
    const err = await failure(conn.exec('sleep 30', { timeoutMs: 500 }));
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/`sleep 30` timed out after 0.5s/);
    // the connection is still usable afterwards
    expect((await conn.exec('echo still-here')).stdout).toBe('still-here\n');
  });

  it('reuses one connection for many commands, in parallel', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => conn.exec(run('echo', String(i)))));
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    const sshdChildren = await conn.exec(`ps -o pid= --ppid ${a.pid} | wc -l`);
    // one sshd process per connection: this test file holds at most a handful open at once
    expect(Number(sshdChildren.stdout.trim())).toBeLessThanOrEqual(2);
  });
});

describe.each(['root', SUDO_USER])('upload as %s', (user) => {
  let conn: SshConnection;
  let dir: string;
  beforeAll(async () => {
    conn = await SshConnection.open(target(a.port, { user }), options());
    expect(conn.sudo).toBe(user !== 'root');
    dir = join(tmp.dir, `remote-${user}`);
  });
  afterAll(() => conn?.close());

  it('writes files with their mode and skips those whose sha256 already matches', async () => {
    const env = join(dir, 'env', '.env.dev');
    const compose = join(dir, 'compose.yml');
    const first = await upload(conn, [
      { remotePath: env, content: 'SECRET=1\n', mode: 0o600 },
      { remotePath: compose, content: 'services: {}\n' },
    ]);
    expect(first.map((r) => r.action)).toEqual(['uploaded', 'uploaded']);
    expect(readFileSync(env, 'utf8')).toBe('SECRET=1\n');
    const modes = await conn.exec(run('stat', '-c', '%a', env, compose));
    expect(modes.stdout.split('\n').slice(0, 2)).toEqual(['600', '644']);

    const again = await upload(conn, [
      { remotePath: env, content: 'SECRET=1\n', mode: 0o600 },
      { remotePath: compose, content: 'services: {x: {}}\n' },
    ]);
    expect(again.map((r) => r.action)).toEqual(['unchanged', 'uploaded']);
    expect(again[1]!.sha256).toBe(sha256('services: {x: {}}\n'));
  });

  it('fixes a wrong mode without rewriting the content', async () => {
    const env = join(dir, 'env', '.env.dev');
    await conn.run(root('chmod', '644', env));
    const res = await upload(conn, [{ remotePath: env, content: 'SECRET=1\n', mode: 0o600 }]);
    expect(res[0]!.action).toBe('mode-fixed');
    expect((await conn.exec(run('stat', '-c', '%a', env))).stdout.trim()).toBe('600');
  });

  it('is atomic: a reader polling the file only ever sees the old or the new content, and no temp file stays', async () => {
    const file = join(dir, 'big.bin');
    // 2 MiB: several SFTP writes each, while the reader hashes in a tight loop (heavy on a busy machine)
    const A = Buffer.alloc(2 * 1024 * 1024, 'a');
    const B = Buffer.alloc(2 * 1024 * 1024, 'b');
    await upload(conn, [{ remotePath: file, content: A }]);
    const stop = join(tmp.dir, `stop-${user}`);
    let reading!: () => void;
    const firstHash = new Promise<void>((r) => (reading = r));
    const reader = conn.exec(`while [ ! -e ${stop} ]; do sha256sum ${file} | cut -c1-64; done`, { onStdout: () => reading() });
    // on a busy machine the reader's shell may start late: uploading before it reads proves nothing (and it saw nothing)
    await Promise.race([firstHash, new Promise((r) => setTimeout(r, 15_000))]);
    for (let i = 0; i < 6; i++) await upload(conn, [{ remotePath: file, content: i % 2 === 0 ? B : A }]);
    writeFileSync(stop, '');
    const seen = new Set((await reader).stdout.split('\n').filter(Boolean));
    expect(seen.size).toBeGreaterThan(0);
    for (const h of seen) expect([sha256(A), sha256(B)]).toContain(h);
    const leftovers = await conn.exec(`ls -A ${dir} | grep twincigo || true`);
    expect(leftovers.stdout).toBe('');
  }, 90_000);
});

describe('host keys', () => {
  it('refuses an unknown host key, printing its fingerprint and how to accept it', async () => {
    const empty = join(tmp.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const err = await failure(SshConnection.open(target(a.port, { knownHosts: empty }), options()));
    expect(err.kind).toBe('hostkey-unknown');
    expect(err.message).toMatch(/host key of \[127\.0\.0\.1\]:\d+ is not known: ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}/);
    expect(err.hints.join(' ')).toMatch(/--accept-new-host-keys/);
  });

  it('with --accept-new-host-keys records an unknown key, hashed entries of which are then honoured', async () => {
    const file = join(tmp.dir, 'accept_known_hosts');
    writeFileSync(file, '');
    const conn = await SshConnection.open(target(a.port, { knownHosts: file }), options({ acceptNewHostKeys: true }));
    conn.close();
    expect(readFileSync(file, 'utf8')).toContain(a.knownHostsLine.split(' ').slice(1).join(' '));
    // a hashed entry (ssh-keygen -H) still matches
    const { execFileSync } = await import('node:child_process');
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
    const again = await SshConnection.open(target(a.port, { knownHosts: file }), options());
    again.close();
  });

  it('refuses a changed host key, and --accept-new-host-keys never replaces it', async () => {
    const file = join(tmp.dir, 'mismatch_known_hosts');
    // b's key recorded for a's address: the key a presents is "changed"
    writeFileSync(file, `[127.0.0.1]:${a.port} ${b.hostKeyPub.split(' ').slice(0, 2).join(' ')}\n`);
    for (const acceptNewHostKeys of [false, true]) {
      const err = await failure(SshConnection.open(target(a.port, { knownHosts: file }), options({ acceptNewHostKeys })));
      expect(err.kind).toBe('hostkey-changed');
      expect(err.message).toMatch(/HOST KEY CHANGED/);
      expect(err.hints.join(' ')).toMatch(/ssh-keygen -R/);
    }
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('connection failures are one clear line', () => {
  it('wrong key → authentication failed', async () => {
    const other = join(tmp.dir, 'id_other');
    keygen(other);
    const err = await failure(SshConnection.open(target(a.port, { identity: other }), options()));
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/authentication failed for twincigo-sudo@127\.0\.0\.1:\d+/);
  });

  it('encrypted key: the passphrase comes from the provider (env var in CI, prompt on a TTY)', async () => {
    const enc = join(tmp.dir, 'id_encrypted');
    const pub = keygen(enc, { passphrase: 'correct horse' });
    const home = join(tmp.dir, 'a', 'authorized_keys');
    appendFileSync(home, `${pub}\n`);
    const conn = await SshConnection.open(target(a.port, { identity: enc }), options({ passphrase: async () => 'correct horse' }));
    conn.close();
    const err = await failure(SshConnection.open(target(a.port, { identity: enc }), options({ passphrase: async () => 'wrong' })));
    expect(err.message).toMatch(/wrong passphrase for identity file/);
  });

  it('ssh-agent: a key held only by the agent authenticates (no identity file given)', async () => {
    const { execFileSync, spawn } = await import('node:child_process');
    const agentKey = join(tmp.dir, 'id_agent');
    appendFileSync(join(tmp.dir, 'a', 'authorized_keys'), `${keygen(agentKey)}\n`);
    const sock = join(tmp.dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      execFileSync('ssh-add', ['-q', agentKey], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
      process.env.SSH_AUTH_SOCK = sock;
      const t = resolveTarget('agent-node', '127.0.0.1', { config: false, user: SUDO_USER, knownHosts, port: a.port, connectTimeout: 3 }, join(tmp.dir, 'no-home'));
      expect(t.identityFiles.filter((f) => f.startsWith(tmp.dir))).toEqual([]);
      const conn = await SshConnection.open({ ...t, identityFiles: [] }, options());
      expect((await conn.run('whoami')).stdout.trim()).toBe(SUDO_USER);
      conn.close();
    } finally {
      delete process.env.SSH_AUTH_SOCK;
      agent.kill();
    }
  });

  it('connection refused', async () => {
    const port = await freePort();
    const err = await failure(SshConnection.open(target(port), options()));
    expect(err.kind).toBe('refused');
    expect(err.message).toBe(`node-${port}: connection refused by 127.0.0.1:${port}`);
  });

  it('a server that never answers → timeout after the connect timeout', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    const err = await failure(SshConnection.open(target(port, { connectTimeout: 1 }), options()));
    silent.close();
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/timed out after 1s connecting to 127\.0\.0\.1:\d+/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('DNS failure', async () => {
    const t = resolveTarget('ghost', 'no-such-host.invalid', { config: false, identity: clientKey, knownHosts, connectTimeout: 3 }, tmp.dir);
    const err = await failure(SshConnection.open(t, options()));
    expect(err.kind).toBe('dns');
    expect(err.message).toMatch(/cannot resolve host "no-such-host.invalid"/);
  });
});

describe('non-root users', () => {
  it('root commands run through sudo -n when the user may', async () => {
    const conn = await SshConnection.open(target(a.port), options());
    try {
      expect(conn.sudo).toBe(true);
      expect((await conn.exec(run('id', '-un'))).stdout.trim()).toBe(SUDO_USER);
      expect((await conn.exec(root('id', '-un'))).stdout.trim()).toBe('root');
    } finally {
      conn.close();
    }
  });

  it('says clearly when the user may not sudo without a password', async () => {
    const conn = await SshConnection.open(target(a.port, { user: 'twincigo-nosudo' }), options());
    try {
      const err = await failure(conn.exec(root('true')));
      expect(err.kind).toBe('sudo');
      expect(err.message).toMatch(/user twincigo-nosudo may not run sudo without a password/);
      expect(err.hints.join(' ')).toMatch(/NOPASSWD/);
    } finally {
      conn.close();
    }
  });
});

describe('jump host', () => {
  it('reaches a node through a jump host over a forwarded stream', async () => {
    const t = target(b.port, { jump: `root@127.0.0.1:${a.port}` });
    expect(t.jump?.port).toBe(a.port);
    const conn = await SshConnection.open(t, options());
    try {
      // the node's sshd sees the connection coming from the jump host's forward, not from us directly
      const [, clientPort, , serverPort] = (await conn.exec('echo $SSH_CONNECTION')).stdout.trim().split(' ');
      expect(serverPort).toBe(String(b.port));
      // the TCP connection to b was opened by the jump host's sshd, not by this process
      const owner = await conn.exec(root('ss', '-tnpH', 'state', 'established', `( sport = :${clientPort} )`));
      expect(owner.stdout).toMatch(/"sshd"/);
      expect(owner.stdout).not.toMatch(/"node"/);
    } finally {
      conn.close();
    }
  });

  it('a jump host that refuses says which hop failed', async () => {
    const port = await freePort();
    const err = await failure(SshConnection.open(target(b.port, { jump: `root@127.0.0.1:${port}` }), options()));
    expect(err.kind).toBe('refused');
    expect(err.message).toMatch(/^jump host 127\.0\.0\.1: connection refused/);
  });
});
