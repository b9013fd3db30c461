import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_ENV_FILE, LAB_KEY, LAB_KNOWN_HOSTS, NODES, containerName } from '../lab/config.ts';
import { killNode, startNode, stopContainer } from '../lab/faults.ts';
import { waitFor } from '../lab/run.ts';
import { runCli } from '../helpers/cli.js';
import { LabCluster } from './cluster.ts';

/** `twincigo status` against the lab's running stack (every service): healthy, a replica node lost, a leader lost. */
const lab = new LabCluster();
const status = async () => {
  const res = await runCli(['status', '--env', 'lab', '--json'], { timeoutMs: 60_000 });
  return { code: res.code, s: JSON.parse(res.stdout), stderr: res.stderr, ms: 0 };
};

beforeAll(() => lab.upAll(), 400_000);
afterAll(() => lab.release());

/** Waits for a healthy status (HAProxy needs a check or two after a start) and returns it. */
/** What a status that is not yet what a test waits for looked like: the timeout says it. */
const seen = (r: Awaited<ReturnType<typeof status>>) => new Error(`exit ${r.code}, leader ${r.s.leader}, warnings: ${(r.s.warnings ?? []).join('; ') || 'none'}`);

const healthyStatus = (timeoutMs = 30_000) =>
  waitFor('a healthy status', async () => {
    const r = await status();
    if (r.code === 0) return r;
    throw seen(r);
  }, timeoutMs, 1000);

/**
 * The leader as status shows it, once there is one and every HAProxy agrees — what the fault tests
 * need to start from (a node just restarted may still be bringing its other services up: that is
 * "degraded", not a reason to wait).
 */
const currentLeader = async (): Promise<string> =>
  (await waitFor('a leader that every HAProxy routes to', async () => {
    const r = await status();
    if (r.s.leader && r.s.haproxy.agree && r.s.haproxy.primary === r.s.leader) return r;
    throw seen(r);
  }, 90_000, 1000)).s.leader;

describe('twincigo status on the lab', () => {

  it('healthy cluster → exit 0 with the right roles, HAProxy agreeing with Patroni', async () => {
    const { code, s } = await healthyStatus();
    expect(code).toBe(0);
    const leader: string = s.leader;
    expect(lab.config.nodes.map((n) => n.name)).toContain(leader);
    expect(s.healthy).toBe(true);
    expect(s.haproxy).toEqual({ agree: true, primary: leader });
    expect(s.etcd).toMatchObject({ healthyMembers: 3, members: 3, quorum: true });
    expect(s.members.map((m: any) => [m.name, m.reachable, m.role === 'leader' ? 'leader' : m.state])).toEqual(
      lab.config.nodes.map((n) => [n.name, true, n.name === leader ? 'leader' : 'streaming']),
    );
    for (const m of s.members) expect(m).toMatchObject({ host: expect.any(String), timeline: expect.any(Number), lagBytes: expect.any(Number) });
    const table = await runCli(['status', '--env', 'lab']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`lab: healthy · leader ${leader} \\(timeline \\d+\\) · etcd 3/3`));
  });

  it('a repeated status goes through the kept connections: no new SSH login on any node', async () => {
    /** Logins each node's sshd has accepted so far (its log is the node container's output). */
    const logins = () =>
      lab.config.nodes.map((n) => {
        const r = spawnSync('docker', ['logs', containerName(n.name)], { encoding: 'utf8' }); // sshd -e: its log is on stderr
        return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.startsWith('Accepted publickey')).length;
      });
    // the holder opens its connections after a status that had to connect
    await waitFor('a status without new logins', async () => {
      const before = logins();
      const r = await status();
      return r.code === 0 && logins().every((c, i) => c === before[i]);
    }, 30_000, 500);
    const before = logins();
    for (let i = 0; i < 3; i++) {
      const r = await status();
      expect(r.code, JSON.stringify(r.s.warnings)).toBe(0);
    }
    expect(logins()).toEqual(before);
    // turned off: every status logs in on every node
    const off = await runCli(['status', '--env', 'lab', '--json'], { env: { TWINCIGO_SSH_PERSIST: '0' } });
    expect(off.code, off.stdout ? JSON.stringify(JSON.parse(off.stdout).warnings) : off.stderr.slice(-1000)).toBe(0);
    expect(logins()).toEqual(before.map((c) => c + 1));
  });

  it('a replica node killed → exit 3 within the connect timeout, that node shown unreachable', async () => {
    const leader = await currentLeader();
    const replica = lab.config.nodes.find((n) => n.name !== leader)!.name;
    await killNode(replica);
    try {
      const started = Date.now();
      const { code, s } = await status();
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(code).toBe(3);
      expect(s.healthy).toBe(false);
      expect(s.leader).toBe(leader);
      expect(s.members.find((m: any) => m.name === replica)).toMatchObject({ reachable: false });
      expect(s.warnings.join('\n')).toMatch(new RegExp(`${replica} is unreachable`));
    } finally {
      await startNode(replica);
    }
    // a node that lost power comes back whole: its Docker starts every service again (a container
    // Docker counts as stopped by hand — e.g. after `docker kill --signal` — would stay down)
    const back = await healthyStatus(120_000);
    expect(back.s.members.find((m: any) => m.name === replica)).toMatchObject({ reachable: true, state: 'streaming' });
  });

  it('the leader\'s Patroni killed → after failover the new leader is shown and HAProxy agrees', async () => {
    const leader = await currentLeader();
    await stopContainer(leader, 'twincigo-patroni-1', 'kill');
    const { s } = await waitFor('a new leader in status, with HAProxy routing to it', async () => {
      const r = await status();
      return r.s.leader && r.s.leader !== leader && r.s.haproxy.primary === r.s.leader ? r : false;
    }, 60_000, 1000);
    expect(s.haproxy.agree).toBe(true);
    expect(s.members.find((m: any) => m.name === s.leader).role).toBe('leader');
    const i = lab.config.nodes.findIndex((n) => n.name === leader);
    // the leader may be the node the previous test restarted: its connection from upAll() is gone
    await (await lab.conn(i)).run(lab.compose(i, 'start', 'patroni'));
    const back = await waitFor('healthy again, the old leader a replica', async () => {
      const r = await status();
      return r.code === 0 ? r : false;
    }, 120_000, 2000);
    expect(back.s.members.find((m: any) => m.name === leader).role).toBe('replica');
  });

  it('operator-side SSH problems are not the cluster\'s state: a wrong key or an unknown host key is exit 1 with the reason and the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twincigo-opside-'));
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'wrong')]);
      writeFileSync(join(dir, 'empty_known_hosts'), '');
      const inventory = (ssh: Record<string, unknown>) => {
        const file = join(dir, `inv-${Object.keys(ssh).join('-')}.yml`);
        writeFileSync(file, stringify({
          version: 1,
          environments: { lab: { profile: 'dev', envFile: LAB_ENV_FILE, ssh: { user: 'root', identity: LAB_KEY, knownHosts: LAB_KNOWN_HOSTS, config: false, connectTimeout: 5, ...ssh }, nodes: NODES.map((n) => ({ name: n.name, host: n.ip, roles: n.roles })) } },
        }));
        return file;
      };
      const env = { TWINCIGO_SSH_PERSIST: '0', SSH_AUTH_SOCK: undefined };
      const wrongKey = await runCli(['status', '-c', inventory({ identity: join(dir, 'wrong') }), '--env', 'lab', '--json'], { env, timeoutMs: 60_000 });
      expect(wrongKey.code, wrongKey.stderr).toBe(1);
      expect(wrongKey.stderr).toMatch(/cannot judge the cluster from here:\n {2}- lab-hil-1: authentication failed for root@172\.28\.77\.11:22/);
      expect(wrongKey.stderr).not.toMatch(/NO QUORUM|DOWN/);
      expect(JSON.parse(wrongKey.stdout)).toMatchObject({ ok: false, exitCode: 1 });
      const unknown = await runCli(['status', '-c', inventory({ knownHosts: join(dir, 'empty_known_hosts') }), '--env', 'lab'], { env, timeoutMs: 60_000 });
      expect(unknown.code, unknown.stderr).toBe(1);
      expect(unknown.stderr).toMatch(/host key of .* is not known/);
      expect(unknown.stderr).toContain('--accept-new-host-keys');
      expect(unknown.stdout).not.toMatch(/NO QUORUM|DOWN/);
      const missing = await runCli(['status', '-c', inventory({ identity: join(dir, 'no-such-key') }), '--env', 'lab'], { env, timeoutMs: 60_000 });
      expect(missing.code, missing.stderr).toBe(2);
      expect(missing.stderr).toMatch(/cannot read identity file .*no-such-key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
