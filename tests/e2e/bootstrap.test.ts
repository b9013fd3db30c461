import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psqlQueryCommand } from '../../dist/cluster/psql.js';
import { readLock } from '../../dist/cluster/lock.js';
import { run } from '../../dist/remote/shell.js';
import { LAB_ENV_FILE, LAB_KNOWN_HOSTS, NODES, containerName } from '../lab/config.ts';
import { updateEnvFile } from '../../dist/secrets/env-file-edit.js';
import { canReach, startNode, stopNode, wipeStack } from '../lab/faults.ts';
import { inNode, sh } from '../lab/run.ts';
import { openPorts } from '../lab/scan.ts';
import { runCli } from '../helpers/cli.js';
import { LabCluster } from './cluster.ts';

/**
 * `twincigo bootstrap --env lab` from bare nodes (images present, as after a first pull): a
 * healthy cluster, a no-op second run, convergence after a lost container, and the refusals
 * that must change nothing (a node down, a changed host key, a held lock).
 */
const lab = new LabCluster();
const bootstrap = (...extra: string[]) => runCli(['bootstrap', '--env', 'lab', '--yes', ...extra], { timeoutMs: 400_000 });

/** Every container on every node: id, start time, restart count — a restart changes one of them. */
async function containerStates(): Promise<string[]> {
  const out = await Promise.all(
    NODES.map((n) => inNode(containerName(n.name), ['sh', '-c', 'docker ps -aq | xargs -r docker inspect -f "{{.Name}} {{.Id}} {{.State.StartedAt}} {{.RestartCount}}"'])),
  );
  return out.flatMap((r, i) => r.stdout.split('\n').filter(Boolean).map((l) => `${NODES[i]!.name} ${l}`)).sort();
}

/** What bootstrap may leave on a node: the base dir, our containers, the firewall chain. */
async function footprint(node: string): Promise<string> {
  const r = await inNode(containerName(node), ['sh', '-c', 'ls -A /opt/twincigo-crm 2>/dev/null; docker ps -aq; docker volume ls -q; iptables -S TWINCIGO 2>/dev/null; true']);
  return r.stdout.trim();
}

/** The status a failing assertion shows: what bootstrap's --json saw, else a fresh `status`. */
async function statusSeen(stdout?: string): Promise<string> {
  try {
    const out = JSON.parse(stdout ?? '');
    if (out.status) return `status seen: ${JSON.stringify({ warnings: out.status.warnings, leader: out.status.leader, members: out.status.members.map((m: { name: string; role: string; state: string }) => `${m.name} ${m.role} ${m.state}`) })}`;
  } catch {
    /* not JSON: ask */
  }
  return `status now: ${(await runCli(['status', '--env', 'lab'])).stdout}`;
}

/**
 * Each test that needs a bootstrapped cluster makes sure of one itself (no test relies on another
 * having run or passed), and takes its own before-picture of every container.
 */
async function bootstrapped(): Promise<string[]> {
  const st = await runCli(['status', '--env', 'lab', '--json']);
  if (st.code !== 0) {
    const res = await bootstrap('--json');
    expect(res.code, `${res.stderr.slice(-3000)}\n${await statusSeen(res.stdout)}`).toBe(0);
  }
  return containerStates();
}

beforeAll(() => wipeStack(), 120_000);
afterAll(async () => {
  await wipeStack();
  await lab.pool.closeAll();
});

describe('twincigo bootstrap on the lab', () => {
  it('with one node stopped: preflight fails clearly and nothing changes on the other two', async () => {
    await stopNode('lab-ash-2');
    try {
      const res = await bootstrap();
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/Preflight failed on 1 of 3 nodes — lab-ash-2: .*(refused|timed out|unreachable|No route|EHOSTUNREACH)/i);
      for (const n of ['lab-hil-1', 'lab-ash-1']) expect(await footprint(n)).toBe('');
    } finally {
      await startNode('lab-ash-2');
    }
  }, 120_000);

  it('a node whose host key changed is refused, nothing changed anywhere', async () => {
    const saved = readFileSync(LAB_KNOWN_HOSTS, 'utf8');
    const dir = mkdtempSync(`${tmpdir()}/twincigo-hk-`);
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir}/k`]);
      const other = readFileSync(`${dir}/k.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
      const ip = NODES[1]!.ip;
      writeFileSync(LAB_KNOWN_HOSTS, saved.split('\n').map((l) => (l.startsWith(`${ip} `) ? `${ip} ${other}` : l)).join('\n'));
      const res = await bootstrap();
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(/lab-ash-1: .*host key/i);
      for (const n of NODES) expect(await footprint(n.name)).toBe('');
    } finally {
      writeFileSync(LAB_KNOWN_HOSTS, saved, { mode: 0o600 });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('bare nodes → leader + 2 streaming replicas, HAProxy on all 3 → leader, Supabase roles, every service healthy', async () => {
    await wipeStack();
    const res = await bootstrap('--json');
    expect(res.code, `${res.stderr.slice(-3000)}\n${await statusSeen(res.stdout)}`).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.status).toMatchObject({ healthy: true, leader: 'lab-hil-1' });
    expect(out).toMatchObject({ healthy: true, statusWarnings: [] });
    for (const m of out.status.members) expect(m.containers.every((c: { state: string; health: string | null }) => c.state === 'running' && (c.health ?? 'healthy') === 'healthy')).toBe(true);

    const conns = await Promise.all(lab.config.nodes.map((n) => lab.pool.get(n)));
    const members = await lab.members(conns[0]!);
    expect(LabCluster.healthy(members)).toBe(true);
    for (const c of conns) {
      const r = await c.run(psqlQueryCommand(5000, 'select pg_is_in_recovery(), inet_server_addr()'));
      expect(r.stdout.trim()).toBe(`f|${NODES[0]!.ip}`);
    }
    const roles = await conns[1]!.run(psqlQueryCommand(5000, "select string_agg(rolname, ',' order by rolname) from pg_roles where rolname in ('anon','authenticated','service_role','authenticator','supabase_admin')"));
    expect(roles.stdout.trim()).toBe('anon,authenticated,authenticator,service_role,supabase_admin');

    // the firewall: peers reach the cluster ports, the operator's machine (not a node) does not
    expect(await canReach('lab-ash-1', 'lab-hil-1', 5432)).toBe(true);
    const fromHost = await sh('timeout', ['3', 'bash', '-c', `exec 3<>/dev/tcp/${NODES[0]!.ip}/5432`], { reject: false });
    expect(fromHost.exitCode).not.toBe(0);
    expect(await canReach('lab-ash-1', 'lab-hil-1', 22)).toBe(true);

    // lock released, one audit line per node
    expect(await readLock(conns[0]!, lab.base)).toBeNull();
    for (const c of conns) {
      const audit = await c.run(run('tail', '-n', '1', `${lab.base}/audit.log`));
      expect(audit.stdout).toMatch(/user=\S+ env=lab command="bootstrap" result=ok/);
    }
  }, 400_000);

  it("the dev profile's public ports, as docs/stack.md lists them: SSH everywhere, Kong on the Supabase node, the backend on its node — nothing else, every TCP port scanned from outside", async () => {
    await bootstrapped();
    const scans = await Promise.all(NODES.map((n) => openPorts(n.ip)));
    expect(Object.fromEntries(NODES.map((n, i) => [n.name, scans[i]]))).toEqual({ 'lab-hil-1': [22, 8000], 'lab-ash-1': [22, 8080], 'lab-ash-2': [22] });
    // the rest is there for the nodes (HAProxy, Patroni, etcd): filtered, not absent
    for (const port of [5000, 8008, 2379]) expect(await canReach('lab-ash-2', 'lab-hil-1', port), `${port}`).toBe(true);
  }, 300_000);

  it('a second run changes nothing, restarts nothing, and says so', async () => {
    const states = await bootstrapped();
    const res = await bootstrap();
    expect(res.code, res.stderr.slice(-2000)).toBe(0);
    expect(res.stdout).toContain('bootstrap lab: already up to date — nothing changed, nothing restarted');
    expect(await containerStates()).toEqual(states);
  }, 120_000);

  it('a config file changed on a node is put back and its service reloaded in place, not restarted', async () => {
    const states = await bootstrapped();
    const cfg = `${lab.base}/config/haproxy/haproxy.cfg`;
    await inNode(containerName('lab-ash-2'), ['sh', '-c', `echo '# drift' >> ${cfg}`]);
    const res = await bootstrap('--json');
    expect(res.code, res.stderr.slice(-2000)).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.changes).toEqual({ 'lab-hil-1': [], 'lab-ash-1': [], 'lab-ash-2': [`uploaded ${cfg}`, 'reloaded haproxy (config/haproxy/haproxy.cfg)'] });
    // the running HAProxy reads the file put back (the folder is mounted, not the replaced file)
    const inside = await inNode(containerName('lab-ash-2'), ['docker', 'exec', 'twincigo-haproxy-1', 'grep', '-c', 'drift', '/usr/local/etc/haproxy/haproxy.cfg'], { reject: false });
    expect(inside.stdout.trim()).toBe('0');
    expect(await containerStates()).toEqual(states);
  }, 120_000);

  it('a lost container and its image are put back (--ship-images: sent over SSH), and only that one starts', async () => {
    const states = await bootstrapped();
    const redis = lab.values.values.REDIS_IMAGE!;
    const local = `twincigo-lab/${redis.split('/twincigo-lab/')[1]}`;
    await inNode(containerName('lab-ash-1'), ['sh', '-c', `docker rm -f twincigo-redis-1 && docker rmi ${redis}`]);
    await sh('docker', ['tag', local, redis]); // this machine has the image under the node's name
    let res;
    try {
      res = await bootstrap('--json', '--ship-images');
    } finally {
      await sh('docker', ['rmi', redis], { reject: false });
    }
    expect(res.code, res.stderr.slice(-2000)).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.changes).toEqual({ 'lab-hil-1': [], 'lab-ash-1': ['1 image shipped', 'started twincigo-redis-1'], 'lab-ash-2': [] });
    const images = out.steps.filter((st: { phase: string; node: string }) => st.phase === 'Images (shipped over SSH)' && st.node === 'lab-ash-1');
    // etcd, patroni, haproxy, backend, alloy present; redis shipped
    expect(images.map((st: { message: string }) => st.message)).toEqual(['1 shipped, 5 present']);
    const localId = (await sh('docker', ['image', 'inspect', '-f', '{{.Id}}', local])).stdout.trim();
    expect((await inNode(containerName('lab-ash-1'), ['docker', 'image', 'inspect', '-f', '{{.Id}}', redis])).stdout.trim()).toBe(localId);
    const after = await containerStates();
    expect(after.filter((l) => !l.includes('/twincigo-redis-1 '))).toEqual(states.filter((l) => !l.includes('/twincigo-redis-1 ')));
  }, 180_000);

  it('a failing service stops the run with its last log lines, exit 1; the fixed config converges on re-run', async () => {
    await bootstrapped();
    const saved = readFileSync(LAB_ENV_FILE, 'utf8');
    try {
      // the backend's published port collides with Patroni's REST API on its node
      updateEnvFile(LAB_ENV_FILE, new Map([['BACKEND_PORT', '8008']]), '');
      const res = await bootstrap();
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/lab-ash-1: backend: compose up --wait backend \[FAILED: backend did not come up: .*(address already in use|port is already allocated)/);
      expect(res.stderr).toContain('── lab-ash-1: last log lines of backend ──');
      expect(res.stderr).not.toMatch(/STARTED\] \[[\d:]+\] Record/);
      // the phase runs on the nodes with a service in it (in dev lab-ash-2 has none before the app tier)
      expect(res.stderr).toMatch(/error: Services \(exporters, Redis, storage, Supabase, backend\) failed on 1 of 2 nodes/);
    } finally {
      writeFileSync(LAB_ENV_FILE, saved, { mode: 0o600 });
    }
    const again = await bootstrap('--json');
    expect(again.code, `${again.stderr.slice(-2000)}\n${await statusSeen(again.stdout)}`).toBe(0);
    const out = JSON.parse(again.stdout);
    expect(out.status.healthy).toBe(true);
    expect(out.changes['lab-ash-1']).toContain('started twincigo-backend-1');
  }, 300_000);

  it('a held lock keeps bootstrap out, naming the holder', async () => {
    expect((await runCli(['lock', 'acquire', '--env', 'lab', '-m', 'maintenance'])).code).toBe(0);
    try {
      const res = await bootstrap();
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/environment lab is locked by \S+ \(lock acquire: maintenance\) since/);
    } finally {
      expect((await runCli(['lock', 'release', '--env', 'lab'])).code).toBe(0);
    }
  }, 60_000);
});
