import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';

/**
 * Real OpenSSH sshd processes on loopback ports, for the SSH transport tests. Each has its own
 * host key; a client key pair is authorised for the user running the tests. Nothing is mocked.
 */
export const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));

export interface TestSshd {
  port: number;
  hostKeyPub: string;
  /** `[127.0.0.1]:port ssh-ed25519 AAAA…` */
  knownHostsLine: string;
  stop(): Promise<void>;
  pid: number;
}

export function keygen(file: string, opts: { type?: string; passphrase?: string; comment?: string } = {}): string {
  execFileSync('ssh-keygen', ['-q', '-t', opts.type ?? 'ed25519', '-N', opts.passphrase ?? '', '-C', opts.comment ?? 'twincigo-test', '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('data', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`sshd on ${port} did not start: ${log()}`);
}

/** Starts an sshd on 127.0.0.1 in `dir`, trusting `authorizedKeys`. */
export async function startSshd(dir: string, authorizedKeys: string[], name = 'sshd'): Promise<TestSshd> {
  if (!SSHD) throw new Error('sshd not found: run tests/setup-machine.sh as root (installs openssh-server)');
  // unprivileged test users log in and must reach the files below dir
  chmodSync(dir, 0o755);
  const home = join(dir, name);
  mkdirSync(home, { recursive: true });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(home, 'host_ed25519');
  const hostKeyPub = keygen(hostKey, { comment: name });
  const auth = join(home, 'authorized_keys');
  writeFileSync(auth, `${authorizedKeys.join('\n')}\n`);
  chmodSync(auth, 0o644); // sshd reads it as the logging-in user
  const port = await freePort();
  const config = join(home, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${auth}`,
      `PidFile ${join(home, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'MaxSessions 20',
      'MaxStartups 100',
      'LogLevel ERROR',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  let log = '';
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d) => (log += d));
  await waitForPort(port, child, () => log);
  const [type, key] = hostKeyPub.split(' ');
  return {
    port,
    hostKeyPub,
    pid: child.pid!,
    knownHostsLine: `[127.0.0.1]:${port} ${type} ${key}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
