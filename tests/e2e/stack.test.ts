import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/remote/shell.js';
import { supabaseSql } from '../../src/stack/supabase-sql.js';
import { psqlViaHaproxy } from '../../src/cluster/psql.js';
import { stopContainer, wipeStack } from '../lab/faults.ts';
import { waitFor } from '../lab/run.ts';
import { LabCluster } from './cluster.ts';

/**
 * twincigo's rendered bundle for each lab node (compose files, patroni.yml, haproxy.cfg, .env)
 * starts the real HA stack: etcd quorum, a Patroni leader with two streaming replicas, HAProxy on
 * every node routing :5000 to the leader and :5001 to replicas; a stopped leader hands over.
 */
const lab = new LabCluster();
const BASE = lab.base;
const config = lab.config;
const compose = (i: number, ...args: string[]) => lab.compose(i, ...args);
const sql = (i: number, port: number, query: string) => lab.sql(i, port, query);
const members = (c: (typeof lab.conns)[number]) => lab.members(c);
const healthy = LabCluster.healthy;
let conns: typeof lab.conns = [];
let bundles: typeof lab.bundles = [];
const password = lab.values.values.POSTGRES_PASSWORD!;
const backendPassword = lab.values.values.BACKEND_DB_PASSWORD!;

beforeAll(async () => {
  await wipeStack(); // this file forms the cluster step by step: from bare nodes
  await lab.upload();
  conns = lab.conns;
  bundles = lab.bundles;
  const modes = await conns[0]!.run(run('stat', '-c', '%a %n', `${BASE}/.env`, `${BASE}/config/patroni/patroni.yml`));
  expect(modes.stdout).toBe(`600 ${BASE}/.env\n644 ${BASE}/config/patroni/patroni.yml\n`);
});

afterAll(() => lab.release());

describe('the rendered stack on the lab nodes', () => {
  it('every node\'s rendered compose files pass `docker compose config` on the node', async () => {
    for (const [i, c] of conns.entries()) {
      const res = await c.exec(compose(i, 'config', '--quiet'));
      expect(res.stderr, bundles[i]!.node).toBe('');
      expect(res.code).toBe(0);
      const services = (await c.run(compose(i, 'config', '--services'))).stdout.trim().split('\n').sort();
      expect(services).toEqual(expect.arrayContaining(['etcd', 'haproxy', 'patroni']));
    }
    const hil = (await conns[0]!.run(compose(0, 'config', '--services'))).stdout;
    for (const s of ['kong', 'auth', 'rest', 'realtime', 'storage', 'imgproxy', 'meta', 'studio']) expect(hil).toContain(s);
  });

  it('etcd: three members form a quorum', async () => {
    await lab.up('etcd');
    const health = await lab.etcdHealthy();
    expect(health).toMatch(/172\.28\.77\.13:2379 is healthy/);
  });

  it('Patroni: one leader and two streaming replicas', async () => {
    await lab.up('patroni');
    const ms = await lab.patroniHealthy();
    expect(ms.map((m) => m.name).sort()).toEqual(config.nodes.map((n) => n.name).sort());
  });

  it('HAProxy on every node routes :5000 to the leader and :5001 to a replica; a write reaches the replicas', async () => {
    await lab.up('haproxy');
    const leader = (await members(conns[0]!)).find((m) => m.role === 'leader')!;
    for (const [i, c] of conns.entries()) {
      const primary = await waitFor('HAProxy :5000', async () => {
        const r = await c.exec(sql(i, 5000, 'select inet_server_addr(), pg_is_in_recovery()'));
        return r.code === 0 ? r.stdout.trim() : false;
      }, 30_000, 500);
      expect(primary).toBe(`${leader.host}|f`);
    }
    await conns[2]!.run(sql(2, 5000, "create table smoke(id int primary key, note text); insert into smoke values (1, 'through haproxy')"));
    const fromReplica = await waitFor('the row on a replica via :5001', async () => {
      const r = await conns[1]!.exec(sql(1, 5001, "select pg_is_in_recovery(), note from smoke where id = 1"));
      return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : false;
    }, 30_000, 500);
    expect(fromReplica).toBe('t|through haproxy');
  });

  it('the Supabase SQL applies cleanly through HAProxy, twice (idempotent), skipping extensions the image lacks', async () => {
    const sqlText = supabaseSql({ postgresPassword: password, backendPassword, jwtExpiry: '3600' });
    const first = await psqlViaHaproxy(conns[1]!, sqlText);
    const second = await psqlViaHaproxy(conns[2]!, sqlText);
    expect(second.notices).toEqual(first.notices);
    // pgjwt is the one Supabase extension the lab's image has neither for real nor as a stand-in
    expect(first.notices.join('\n')).toMatch(/optional extension pgjwt is not available in this image: skipped/);
    expect(first.notices.join('\n')).not.toMatch(/pgsodium|supabase_vault|pg_graphql|pg_net/);
    const q = async (query: string) => (await conns[0]!.run(sql(0, 5000, query))).stdout.trim();
    expect(await q("select string_agg(rolname, ',' order by rolname) from pg_roles where rolname in ('anon','authenticated','service_role','authenticator','supabase_admin','supabase_auth_admin','supabase_storage_admin','supabase_functions_admin','supabase_replication_admin','supabase_read_only_user','dashboard_user','backend')"))
      .toBe('anon,authenticated,authenticator,backend,dashboard_user,service_role,supabase_admin,supabase_auth_admin,supabase_functions_admin,supabase_read_only_user,supabase_replication_admin,supabase_storage_admin');
    expect(await q("select string_agg(nspname || ':' || pg_get_userbyid(nspowner), ',' order by nspname) from pg_namespace where nspname in ('auth','storage','_realtime','extensions')"))
      .toBe('_realtime:supabase_admin,auth:supabase_auth_admin,extensions:postgres,storage:supabase_storage_admin');
    // each extension where its control file says (the stand-ins carry upstream's: pgsodium, vault and graphql pin theirs)
    expect(await q("select string_agg(extname || ':' || extnamespace::regnamespace, ',' order by extname) from pg_extension where extname <> 'plpgsql'"))
      .toBe('pg_graphql:graphql,pg_net:extensions,pg_stat_statements:extensions,pgcrypto:extensions,pgsodium:pgsodium,supabase_vault:vault,uuid-ossp:extensions,vector:extensions');
    expect(await q("select pubname from pg_publication where pubname = 'supabase_realtime'")).toBe('supabase_realtime');
    expect(await q("select current_setting('app.settings.jwt_exp')")).toBe('3600');
    // GraphQL's entry point answers through pg_graphql; pg_net's functions were granted by the event trigger on creation
    expect(await q("select graphql_public.graphql(query => '{ __typename }')")).toBe('{"data": {"__typename": "Query"}}');
    expect(await q("select has_function_privilege('anon', 'net.http_get(text,jsonb,jsonb,integer)', 'EXECUTE'), prosecdef from pg_proc where oid = 'net.http_get(text,jsonb,jsonb,integer)'::regprocedure")).toBe('t|t');
    // pg_cron (real, Debian's) enabled afterwards from Studio (as supabase_admin): the event trigger grants postgres its schema
    await q('set role supabase_admin; create extension if not exists pg_cron');
    expect(await q("select nspacl::text from pg_namespace where nspname = 'cron'")).toMatch(/postgres=U\*\/supabase_admin/);
    // tables made by postgres (twincigo migrate) and by supabase_admin (Studio, pg-meta) reach the API roles;
    // vector works unqualified (extensions is on the search path)
    await q('create table if not exists by_postgres (id int, v vector(3))');
    await q('set role supabase_admin; create table if not exists by_admin (id int)');
    expect(await q("select has_table_privilege('anon', 'by_postgres', 'SELECT'), has_table_privilege('authenticated', 'by_admin', 'INSERT'), has_table_privilege('service_role', 'by_admin', 'DELETE')")).toBe('t|t|t');
    // the roles can log in with their passwords through HAProxy, as the services will; the backend's search path has extensions too
    const login = await conns[1]!.exec(compose(1, 'exec', '-T', '-e', `PGPASSWORD=${backendPassword}`, 'patroni', 'psql', 'host=127.0.0.1 port=5000 user=backend dbname=postgres', '-Atc', "select current_user, '[1,2,3]'::vector"));
    expect(login.stdout.trim()).toBe('backend|[1,2,3]');
  });

  it('a stopped leader container hands over: a replica is promoted, HAProxy follows, the old leader rejoins as a replica', async () => {
    const before = await members(conns[0]!);
    const leader = before.find((m) => m.role === 'leader')!;
    const i = config.nodes.findIndex((n) => n.name === leader.name);
    const o = (i + 1) % 3;
    const other = conns[o]!;
    await stopContainer(leader.name, 'twincigo-patroni-1');
    const after = await waitFor('a new leader', async () => {
      const m = await members(other);
      const l = m.find((x) => x.role === 'leader' && x.state === 'running');
      return l && l.name !== leader.name ? l : false;
    }, 60_000, 500);
    const primary = await waitFor('HAProxy :5000 on the new leader', async () => {
      const r = await other.exec(sql(o, 5000, 'select inet_server_addr()'));
      return r.code === 0 && r.stdout.trim() === after.host ? r.stdout.trim() : false;
    }, 30_000, 500);
    expect(primary).toBe(after.host);
    expect((await other.run(sql(o, 5000, 'select note from smoke where id = 1'))).stdout.trim()).toBe('through haproxy');
    await conns[i]!.run(compose(i, 'start', 'patroni'));
    const rejoined = await waitFor('the old leader back as a streaming replica', async () => {
      const m = await members(other);
      return healthy(m) && m.find((x) => x.name === leader.name)?.role === 'replica' ? m : false;
    }, 90_000, 1000);
    expect(rejoined.find((x) => x.name === after.name)?.timeline).toBeGreaterThan(before.find((x) => x.name === leader.name)?.timeline ?? 0);
  });
});
