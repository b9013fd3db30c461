/**
 * Benchmark: one command on 3 real sshd's (loopback) through twincigo's SSH transport, with and
 * without connection reuse, against the OpenSSH client as the baseline measured in the same run.
 * Run by tests/bench/run.sh (Node >= 23 strips the types). Prints a JSON summary on stdout.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { keygen, startSshd } from '../helpers/sshd.ts';
import { tempDir } from '../helpers/tmp.ts';
import { SshConnection } from '../../dist/ssh/connection.js';
import { KnownHosts } from '../../dist/ssh/known-hosts.js';
import { resolveTarget } from '../../dist/ssh/target.js';
import { median } from './median.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
// twincigo-sudo has /bin/sh as its shell; root's ~/.bashrc on these machines runs `pyenv init`
// (~0.5 s per session), which would measure the machine's dotfiles, not the transport.
const USER = 'twincigo-sudo';
const pexec = promisify(execFile);

const tmp = tempDir('twincigo-bench-');
const key = join(tmp.dir, 'id_ed25519');
const pub = keygen(key);
const servers = await Promise.all(['n1', 'n2', 'n3'].map((n) => startSshd(tmp.dir, [pub], n)));
const knownHosts = join(tmp.dir, 'known_hosts');
writeFileSync(knownHosts, servers.map((s) => s.knownHostsLine).join('\n') + '\n');
const targets = servers.map((s, i) => resolveTarget(`n${i + 1}`, '127.0.0.1', { config: false, user: USER, identity: key, knownHosts, port: s.port }, tmp.dir));
const opts = { acceptNewHostKeys: false, knownHosts: (f: string) => new KnownHosts(f), passphrase: async () => '' };

const time = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

const cold: number[] = [];
const warm: number[] = [];
const openssh: number[] = [];
const warm10: number[] = [];
const cold10: number[] = [];
const pool = await Promise.all(targets.map((t) => SshConnection.open(t, opts)));

for (let r = 0; r < ROUNDS; r++) {
  // alternate the variants inside each round, so machine noise hits all of them alike
  cold.push(await time(async () => {
    const conns = await Promise.all(targets.map((t) => SshConnection.open(t, opts)));
    await Promise.all(conns.map((c) => c.run('true')));
    conns.forEach((c) => c.close());
  }));
  warm.push(await time(() => Promise.all(pool.map((c) => c.run('true')))));
  openssh.push(await time(() => Promise.all(servers.map((s) => pexec('ssh', ['-q', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-i', key, '-p', String(s.port), `${USER}@127.0.0.1`, 'true'])))));
  if (r < 5) {
    warm10.push(await time(() => Promise.all(pool.map(async (c) => { for (let i = 0; i < 10; i++) await c.run('true'); }))));
    cold10.push(await time(() => Promise.all(targets.map(async (t) => {
      for (let i = 0; i < 10; i++) {
        const c = await SshConnection.open(t, opts);
        await c.run('true');
        c.close();
      }
    }))));
  }
}
pool.forEach((c) => c.close());
await Promise.all(servers.map((s) => s.stop()));
tmp.cleanup();

const r1 = (x: number) => Math.round(x * 10) / 10;
console.log(JSON.stringify({
  rounds: ROUNDS,
  oneCommandOn3Nodes: {
    newConnectionsMs: r1(median(cold)),
    reusedConnectionsMs: r1(median(warm)),
    opensshClientBaselineMs: r1(median(openssh)),
  },
  tenCommandsPerNodeOn3Nodes: {
    newConnectionEachMs: r1(median(cold10)),
    reusedConnectionMs: r1(median(warm10)),
  },
}, null, 2));
