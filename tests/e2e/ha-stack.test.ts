import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, root, run } from '../../src/remote/shell.js';
import type { SshConnection } from '../../src/ssh/connection.js';
import { upload } from '../../src/ssh/upload.js';
import { stopContainer } from '../lab/faults.ts';
import { waitFor } from '../lab/run.ts';
import { labConfig, labEnv, labPool } from './helpers.ts';

/**
 * The lab images run the real HA stack across the three nodes: etcd quorum, a Patroni leader with
 * two streaming replicas, HAProxy on every node routing :5000 to the leader and :5001 to replicas.
 * (A fixture stack: the product's own compose files are rendered by `twincigo render`/bootstrap.)
 */
const FIXTURE = new URL('./fixtures/ha-smoke/', import.meta.url);
const DIR = '/opt/twincigo-lab-smoke';
const config = labConfig();
const pool = labPool();
const env = labEnv();
let conns: SshConnection[] = [];

const compose = (...args: string[]) => root('docker', 'compose', '--project-directory', DIR, '-f', `${DIR}/compose.yml`, ...args);
const sql = (port: number, query: string) =>
  compose('exec', '-T', 'patroni', 'psql', `host=127.0.0.1 port=${port} user=postgres dbname=postgres password=smoke-superuser connect_timeout=3`, '-Atc', query);

interface Member { name: string; role: string; state: string; host: string; timeline?: number; lag?: number }
async function members(conn: SshConnection): Promise<Member[]> {
  const res = await conn.run(run('curl', '-fsS', '--max-time', '3', 'http://127.0.0.1:8008/cluster'));
  return (JSON.parse(res.stdout) as { members: Member[] }).members;
}
const healthy = (ms: Member[]) =>
  ms.length === 3 && ms.filter((m) => m.role === 'leader' && m.state === 'running').length === 1 && ms.filter((m) => m.role === 'replica' && m.state === 'streaming').length === 2;

beforeAll(async () => {
  conns = await Promise.all(config.nodes.map((n) => pool.get(n)));
  const initialCluster = config.nodes.map((n) => `${n.name}=http://${n.host}:2380`).join(',');
  const tmpl = readFileSync(new URL('patroni.yml.tmpl', FIXTURE), 'utf8');
  await Promise.all(
    config.nodes.map((n, i) =>
      upload(conns[i]!, [
        { remotePath: `${DIR}/compose.yml`, content: readFileSync(new URL('compose.yml', FIXTURE)) },
        { remotePath: `${DIR}/haproxy.cfg`, content: readFileSync(new URL('haproxy.cfg', FIXTURE)) },
        { remotePath: `${DIR}/patroni.yml`, content: tmpl.replaceAll('${NODE_NAME}', n.name).replaceAll('${NODE_IP}', n.host), mode: 0o644 },
        {
          remotePath: `${DIR}/.env`,
          mode: 0o600,
          content: [`NODE_NAME=${n.name}`, `NODE_IP=${n.host}`, `INITIAL_CLUSTER=${initialCluster}`, `ETCD_IMAGE=${env.ETCD_IMAGE}`, `PATRONI_IMAGE=${env.PATRONI_IMAGE}`, `HAPROXY_IMAGE=${env.HAPROXY_IMAGE}`, ''].join('\n'),
        },
      ]),
    ),
  );
});

afterAll(async () => {
  await Promise.all(conns.map((c) => c.exec(and(compose('down', '-v', '--timeout', '5'), root('rm', '-rf', DIR)), { timeoutMs: 120_000 })));
  await pool.closeAll();
});

describe('the real HA stack on the lab nodes', () => {
  it('etcd: three members form a quorum', async () => {
    await Promise.all(conns.map((c) => c.run(compose('up', '-d', 'etcd'), { timeoutMs: 180_000 })));
    const health = await waitFor(
      'etcd endpoint health',
      async () => {
        const res = await conns[0]!.exec(compose('exec', '-T', 'etcd', 'etcdctl', 'endpoint', 'health', '--cluster'));
        return res.code === 0 && (res.stdout.match(/is healthy/g) ?? []).length === 3 ? res.stdout : false;
      },
      60_000,
      500,
    );
    expect(health).toMatch(/172\.28\.77\.13:2379 is healthy/);
  });

  it('Patroni: one leader and two streaming replicas', async () => {
    await Promise.all(conns.map((c) => c.run(compose('up', '-d', 'patroni'), { timeoutMs: 180_000 })));
    const ms = await waitFor('leader + 2 streaming replicas', async () => {
      const m = await members(conns[0]!);
      return healthy(m) ? m : false;
    }, 120_000, 1000);
    expect(ms.map((m) => m.name).sort()).toEqual(config.nodes.map((n) => n.name).sort());
  });

  it('HAProxy on every node routes :5000 to the leader and :5001 to a replica; a write reaches the replicas', async () => {
    await Promise.all(conns.map((c) => c.run(compose('up', '-d', 'haproxy'), { timeoutMs: 120_000 })));
    const leader = (await members(conns[0]!)).find((m) => m.role === 'leader')!;
    for (const c of conns) {
      const primary = await waitFor('HAProxy :5000', async () => {
        const r = await c.exec(sql(5000, 'select inet_server_addr(), pg_is_in_recovery()'));
        return r.code === 0 ? r.stdout.trim() : false;
      }, 30_000, 500);
      expect(primary).toBe(`${leader.host}|f`);
    }
    await conns[2]!.run(sql(5000, "create table smoke(id int primary key, note text); insert into smoke values (1, 'through haproxy')"));
    const fromReplica = await waitFor('the row on a replica via :5001', async () => {
      const r = await conns[1]!.exec(sql(5001, "select pg_is_in_recovery(), note from smoke where id = 1"));
      return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : false;
    }, 30_000, 500);
    expect(fromReplica).toBe('t|through haproxy');
  });

  it('a stopped leader container hands over: a replica is promoted, HAProxy follows, the old leader rejoins as a replica', async () => {
    const before = await members(conns[0]!);
    const leader = before.find((m) => m.role === 'leader')!;
    const i = config.nodes.findIndex((n) => n.name === leader.name);
    const other = conns[(i + 1) % 3]!;
    await stopContainer(leader.name, 'twincigo-lab-smoke-patroni-1');
    const after = await waitFor('a new leader', async () => {
      const m = await members(other);
      const l = m.find((x) => x.role === 'leader' && x.state === 'running');
      return l && l.name !== leader.name ? l : false;
    }, 60_000, 500);
    const primary = await waitFor('HAProxy :5000 on the new leader', async () => {
      const r = await other.exec(sql(5000, 'select inet_server_addr()'));
      return r.code === 0 && r.stdout.trim() === after.host ? r.stdout.trim() : false;
    }, 30_000, 500);
    expect(primary).toBe(after.host);
    expect((await other.run(sql(5000, 'select note from smoke where id = 1'))).stdout.trim()).toBe('through haproxy');
    await conns[i]!.run(compose('start', 'patroni'));
    const rejoined = await waitFor('the old leader back as a streaming replica', async () => {
      const m = await members(other);
      return healthy(m) && m.find((x) => x.name === leader.name)?.role === 'replica' ? m : false;
    }, 90_000, 1000);
    expect(rejoined.find((x) => x.name === after.name)?.timeline).toBeGreaterThan(before.find((x) => x.name === leader.name)?.timeline ?? 0);
  });
});
