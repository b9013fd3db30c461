import { afterAll, describe, expect, it } from 'vitest';
import { run, root } from '../../src/remote/shell.js';
import { NODES } from '../lab/config.ts';
import { canReach, heal, killNode, partition, pauseNode, startNode, unpauseNode, waitUntilReachable } from '../lab/faults.ts';
import { labStatus } from '../lab/lab.ts';
import { labConfig, labEnv, labPool } from './helpers.ts';

/** The lab looks to twincigo like the Hetzner nodes: SSH with strict host keys, Docker + compose v2. */
const pool = labPool();
afterAll(() => pool.closeAll());
const config = labConfig();

describe('lab nodes, through twincigo\'s own inventory loader and SSH transport', () => {
  it('the lab inventory is env "lab" of twincigo.yml\'s folder, shaped like dev', () => {
    expect(config.nodes.map((n) => [n.name, n.host])).toEqual(NODES.map((n) => [n.name, n.ip]));
    expect(config.env.initialLeader).toBe('lab-hil-1');
    expect(config.nodes.map((n) => n.roles.includes('patroni'))).toEqual([true, true, true]);
  });

  it('every node answers over SSH (strict host keys from the lab known_hosts) with Docker and compose v2', async () => {
    const results = await Promise.all(
      config.nodes.map(async (n) => {
        const conn = await pool.get(n);
        const res = await conn.run(run('sh', '-c', 'hostname; docker compose version --short; docker info --format "{{.ServerVersion}} {{.Driver}}"'));
        return res.stdout.trim().split('\n');
      }),
    );
    results.forEach(([hostname, compose, info], i) => {
      expect(hostname).toBe(config.nodes[i]!.name);
      expect(compose).toMatch(/^2\./);
      expect(info).toMatch(/ overlay2$/);
    });
  });

  it('nodes pull the lab images from the lab registry, as real nodes pull theirs', async () => {
    const image = labEnv().ETCD_IMAGE!;
    expect(image).toMatch(/^172\.28\.77\.2:5000\/twincigo-lab\/etcd:[0-9a-f]{12}$/);
    const conn = await pool.get(config.nodes[2]!);
    await conn.run(root('docker', 'pull', '-q', image), { timeoutMs: 120_000 });
    const res = await conn.run(root('docker', 'run', '--rm', image, 'etcd', '--version'));
    expect(res.stdout).toMatch(/etcd Version: 3\.5\./);
  });
});

describe('fault helpers', () => {
  it('partition cuts a node off from the other two (both ways) while the operator still reaches it; heal restores', async () => {
    const [a, b, c] = NODES.map((n) => n.name) as [string, string, string];
    expect(await canReach(a, b)).toBe(true);
    await partition(c);
    try {
      expect(await canReach(a, c)).toBe(false);
      expect(await canReach(c, b)).toBe(false);
      expect(await canReach(a, b)).toBe(true);
      const conn = await pool.get(config.nodes[2]!);
      expect((await conn.run('hostname')).stdout.trim()).toBe(c);
      await partition(c); // idempotent
    } finally {
      await heal(c);
    }
    await waitUntilReachable(a, c);
    await waitUntilReachable(c, b);
    await heal(c); // idempotent
  });

  it('pause freezes a node (SSH times out); unpause brings it back', async () => {
    const node = config.nodes[1]!;
    await pauseNode(node.name);
    try {
      const fresh = labPool();
      await expect(fresh.get({ ...node, ssh: { ...node.ssh, connectTimeout: 2 } })).rejects.toThrow(/timed out after 2s/);
      await fresh.closeAll();
    } finally {
      await unpauseNode(node.name);
    }
  });

  it('kill takes a node down (connection refused/unreachable); start brings sshd and dockerd back', async () => {
    const node = config.nodes[1]!;
    await killNode(node.name);
    const fresh = labPool();
    await expect(fresh.get({ ...node, ssh: { ...node.ssh, connectTimeout: 2 } })).rejects.toThrow(/lab-ash-1: /);
    await startNode(node.name);
    const conn = await fresh.get(node);
    expect((await conn.run(run('docker', 'info', '--format', '{{.ServerVersion}}'))).code).toBe(0);
    await fresh.closeAll();
    expect((await labStatus()).up).toBe(true);
  });
});
