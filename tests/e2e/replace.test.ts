import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeSession, summarizeProbe } from '../../dist/cluster/write-probe.js';
import { SshPool } from '../../dist/ssh/pool.js';
import { LAB_INVENTORY, NODES, containerName } from '../lab/config.ts';
import { wipeStack } from '../lab/faults.ts';
import { writeInventory } from '../lab/inventory.ts';
import { SPARE_IPS, addressOf, destroyNode, startBareNode } from '../lab/machines.ts';
import { docker, inNode, waitFor } from '../lab/run.ts';
import { runCli } from '../helpers/cli.js';
import { LabCluster } from './cluster.ts';
import { labConfig } from './helpers.ts';

/**
 * `twincigo node replace` on the lab: a node's machine and disk destroyed, a bare machine started
 * for it at a new address, the replacement run while a write probe on a survivor writes every
 * 100 ms. First a replica's node (cloned from the latest backup), then the node that held the
 * leader (after Patroni's failover; cloned from the leader). At the end the lab's nodes go back to
 * their own addresses, bare (the next file builds its cluster again).
 */
const lab = new LabCluster();
/** Connections to wherever the nodes are now (the inventory changes under the test). */
let pool = new SshPool(labConfig().dir, { acceptNewHostKeys: false, passphrase: async () => '' });
const nodeConfig = (name: string) => labConfig().env.nodes.find((n) => n.name === name)!;
const status = async () => {
  const r = await runCli(['status', '--env', 'lab', '--json'], { timeoutMs: 60_000 });
  return { code: r.code, s: JSON.parse(r.stdout) };
};
/** Machines destroyed and started again elsewhere (with the image they ran): afterAll brings them home. */
const moved: Array<{ name: string; image: string }> = [];
const imageOf = async (name: string) => (await docker(['inspect', '-f', '{{.Config.Image}}', containerName(name)])).stdout.trim();
/** Machines the lab does not have by default (node add's fourth node): removed at the end. */
const extra: string[] = [];

beforeAll(() => lab.upAll(), 600_000);
afterAll(async () => {
  await pool.closeAll();
  await lab.release();
  for (const name of extra) await destroyNode(name).catch(() => undefined);
  if (moved.length === 0 && extra.length === 0) return;
  // back to the lab's own addresses, bare: the moved machines replaced at home first (a test that
  // failed half-way may have left one destroyed), then the other nodes' stacks removed
  for (const m of moved) {
    await destroyNode(m.name).catch(() => undefined);
    await startBareNode(m.name, NODES.find((n) => n.name === m.name)!.ip, m.image);
  }
  await wipeStack(NODES.map((n) => n.name).filter((n) => !moved.some((m) => m.name === n)));
  writeInventory('lab');
}, 300_000);

/** Destroys the node's machine, starts a bare one at a spare address, runs node replace under a write probe on `probeOn`. */
async function replace(name: string, probeOn: string, spare: string, flags: string[] = [], beforeReplace: () => Promise<void> = async () => {}) {
  const image = await destroyNode(name);
  if (!moved.some((m) => m.name === name)) moved.push({ name, image });
  await beforeReplace();
  const probe = new ProbeSession(await pool.get(nodeConfig(probeOn)));
  await probe.start();
  await waitFor('the probe\'s first writes', async () => probe.acknowledged('w') >= 3, 30_000, 200);
  await startBareNode(name, spare, image);
  const res = await runCli(['node', 'replace', name, '--env', 'lab', '--host', spare, '--yes', '--json', ...flags], { timeoutMs: 900_000 });
  await probe.stop();
  const writes = summarizeProbe(probe.events, 'w');
  const lost = await probe.lostWrites();
  await pool.closeAll();
  pool = new SshPool(labConfig().dir, { acceptNewHostKeys: false, passphrase: async () => '' });
  return { res, out: res.stdout ? JSON.parse(res.stdout) : null, writes, lost };
}

/** What every node must show after a replacement of `name` at `ip`. */
async function assertReplaced(name: string, ip: string, old: string) {
  const inv = parse(readFileSync(LAB_INVENTORY, 'utf8'));
  expect(inv.environments.lab.nodes.find((n: any) => n.name === name).host).toBe(ip);
  const { code, s } = await status();
  expect(code, JSON.stringify(s.warnings)).toBe(0);
  expect(s.etcd).toMatchObject({ healthyMembers: 3, members: 3, quorum: true });
  expect(s.members.map((m: any) => m.role === 'leader' ? 'leader' : m.state).sort()).toEqual(['leader', 'streaming', 'streaming']);
  expect(s.members.find((m: any) => m.name === name)).toMatchObject({ host: ip, reachable: true });
  expect(s.haproxy.agree).toBe(true);
  for (const n of NODES) {
    const c = containerName(n.name);
    // HAProxy routes to the new address: its config names it, its replica backend has the server up
    const cfg = (await inNode(c, ['cat', '/opt/twincigo-crm/config/haproxy/haproxy.cfg'])).stdout;
    expect(cfg, n.name).toContain(`server ${name} ${ip}:5432`);
    const member = s.members.find((m: any) => m.name === n.name);
    if (s.leader !== name) expect(member.haproxy.replicas, n.name).toContain(name);
    // the firewall of every node lets the new address in, and no longer the dead one
    const rules = (await inNode(c, ['iptables', '-S', 'TWINCIGO'])).stdout;
    expect(rules, n.name).toContain(`-s ${ip}/32 -j RETURN`);
    expect(rules, n.name).not.toContain(`-s ${old}/32 -j RETURN`);
  }
}

describe('twincigo node replace on the lab', () => {
  it("a replica's machine and disk destroyed → replaced at a new address from the latest backup, writes never stop", async () => {
    const { s } = await status();
    const leader: string = s.leader;
    // a replica that is not the repository host: its backups survive it
    const name = NODES.find((n) => n.name !== leader && !n.roles.includes('backup'))!.name;
    const probeOn = NODES.find((n) => n.name !== name && n.name !== leader)!.name;
    const old = await addressOf(name);
    const { res, out, writes, lost } = await replace(name, probeOn, SPARE_IPS[0]!, ['--clone-from', 'backup']);
    expect(res.code, res.stderr.slice(-3000)).toBe(0);
    expect(out).toMatchObject({ ok: true, node: name, address: SPARE_IPS[0], previousAddress: old, clonedWith: 'pgbackrest' });
    process.stderr.write(`[e2e] replica ${name} replaced in ${(out.durationMs / 1000).toFixed(1)} s (cloned with ${out.clonedWith}); writes: longest gap ${writes.outageSeconds} s, ${writes.acknowledged} acknowledged, ${writes.failed} failed, ${lost} lost\n`);
    expect(writes.acknowledged).toBeGreaterThan(100);
    expect(writes.outageSeconds).toBeLessThanOrEqual(1);
    expect(lost).toBe(0);
    await assertReplaced(name, SPARE_IPS[0], old);
    // the catch-up from the archive ended with the clone: no restore_command left on the new replica
    // (promoted later with the repository host down, it would ask that host for timeline history first)
    expect(out.steps.map((st: any) => `${st.step}: ${st.message ?? ''}`).join('\n')).toMatch(/catch-up from the archive ended.*: dropped/);
    const rc = await inNode(containerName(name), ['docker', 'exec', 'twincigo-patroni-1', 'sh', '-c', 'grep -c "^restore_command" /var/lib/postgresql/data/pgdata/postgresql.base.conf; PGPASSWORD="$PATRONI_SUPERUSER_PASSWORD" psql -X -At -h 127.0.0.1 -U postgres -d postgres -c "show restore_command"'], { reject: false });
    expect(rc.stdout.split('\n').map((l) => l.trim())).toEqual(['0', '', '']);
  });

  it('the node that held the leader — the repository host too — destroyed → after the failover, replaced at a new address (a base backup from the leader: the default), writes never stop', async () => {
    // the hardest case: the leader's node is also the repository host (its repository is lost with
    // it; WAL pushes to it hang until they are cut)
    const name = NODES.find((n) => n.roles.includes('backup'))!.name;
    const { s } = await status();
    if (s.leader !== name) expect((await runCli(['switchover', '--env', 'lab', '--to', name, '--yes'], { timeoutMs: 120_000 })).code).toBe(0);
    const old = await addressOf(name);
    let survivor = '';
    const { res, out, writes, lost } = await replace(name, NODES.find((n) => n.name !== name)!.name, SPARE_IPS[1]!, [], async () => {
      // Patroni fails over; status tells a node that is gone from one that is restarting
      const gone = await waitFor('a new leader, the old one gone', async () => {
        const r = await status();
        return r.s.leader && r.s.leader !== name && r.s.members.find((m: any) => m.name === name)?.presence === 'gone' ? r : false;
      }, 120_000, 2000);
      survivor = gone.s.leader;
      expect(gone.s.warnings.join('\n')).toMatch(new RegExp(`${name} is gone`));
    });
    expect(survivor).not.toBe('');
    expect(res.code, res.stderr.slice(-3000)).toBe(0);
    expect(out).toMatchObject({ ok: true, node: name, address: SPARE_IPS[1], previousAddress: old, clonedWith: 'basebackup' });
    process.stderr.write(`[e2e] former leader ${name} replaced in ${(out.durationMs / 1000).toFixed(1)} s (cloned with ${out.clonedWith}); writes: longest gap ${writes.outageSeconds} s, ${writes.acknowledged} acknowledged, ${writes.failed} failed, ${lost} lost\n`);
    expect(writes.outageSeconds).toBeLessThanOrEqual(1);
    expect(lost).toBe(0);
    await assertReplaced(name, SPARE_IPS[1], old);
    // a second run changes nothing the cluster runs: every step converged or a no-op
    const again = await runCli(['node', 'replace', name, '--env', 'lab', '--yes', '--json'], { timeoutMs: 600_000 });
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    const second = JSON.parse(again.stdout);
    expect(Object.values(second.changes).flat()).toEqual([]);
  });

  it('a fourth node added (etcd kept odd), then removed; removing below three nodes is refused', async () => {
    const name = 'lab-fsn-1';
    const ip = SPARE_IPS[2];
    const refused = await runCli(['node', 'remove', NODES[1]!.name, '--env', 'lab', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/would have 2 nodes: node remove keeps at least three/);
    const inventory = (roles: string[] | null) => {
      const doc = parse(readFileSync(LAB_INVENTORY, 'utf8'));
      const nodes = doc.environments.lab.nodes.filter((n: any) => n.name !== name);
      doc.environments.lab.nodes = roles ? [...nodes, { name, host: ip, roles }] : nodes;
      writeFileSync(LAB_INVENTORY, stringify(doc));
    };
    // the operator adds the node to the inventory first; an etcd role would make etcd even
    inventory(['etcd', 'patroni', 'haproxy']);
    const even = await runCli(['node', 'add', name, '--env', 'lab', '--yes']);
    expect(even.code).toBe(2);
    expect(even.stderr).toMatch(/role "etcd" has 4 members; use an odd number/);
    inventory(['patroni', 'haproxy']);
    extra.push(name);
    await startBareNode(name, ip, await imageOf(NODES[0]!.name));
    const add = await runCli(['node', 'add', name, '--env', 'lab', '--yes', '--json'], { timeoutMs: 900_000 });
    expect(add.code, add.stderr.slice(-3000)).toBe(0);
    const { s } = await status();
    expect(s.members.map((m: any) => m.name).sort()).toEqual([...NODES.map((n) => n.name), name].sort());
    expect(s.members.filter((m: any) => m.state === 'streaming')).toHaveLength(3);
    expect(s.etcd).toMatchObject({ healthyMembers: 3, members: 3 });
    for (const n of NODES) expect((await inNode(containerName(n.name), ['cat', '/opt/twincigo-crm/config/haproxy/haproxy.cfg'])).stdout, n.name).toContain(`server ${name} ${ip}:5432`);
    process.stderr.write(`[e2e] ${name} added in ${(JSON.parse(add.stdout).durationMs / 1000).toFixed(1)} s\n`);

    const rm = await runCli(['node', 'remove', name, '--env', 'lab', '--yes', '--json'], { timeoutMs: 600_000 });
    expect(rm.code, rm.stderr.slice(-3000)).toBe(0);
    expect(parse(readFileSync(LAB_INVENTORY, 'utf8')).environments.lab.nodes.map((n: any) => n.name)).not.toContain(name);
    const after = await status();
    expect(after.code, JSON.stringify(after.s.warnings)).toBe(0);
    expect(after.s.members.map((m: any) => m.name)).not.toContain(name);
    for (const n of NODES) expect((await inNode(containerName(n.name), ['cat', '/opt/twincigo-crm/config/haproxy/haproxy.cfg'])).stdout, n.name).not.toContain(`server ${name} `);
    // its containers stopped, its data kept
    expect((await inNode(containerName(name), ['docker', 'ps', '-q'])).stdout.trim()).toBe('');
    expect((await inNode(containerName(name), ['docker', 'volume', 'ls', '-q'])).stdout).toContain('twincigo_pgdata');
    process.stderr.write(`[e2e] ${name} removed in ${(JSON.parse(rm.stdout).durationMs / 1000).toFixed(1)} s\n`);
  });
});

