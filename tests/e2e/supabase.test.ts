import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_ENV_FILE, NODES, REPO, containerName } from '../lab/config.ts';
import { inNode, waitFor } from '../lab/run.ts';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { LabCluster } from './cluster.ts';
import { readEnvFile } from '../../dist/config/env-file.js';

/**
 * Supabase through Kong on the dev lab, with the REAL pg-meta (npm's @supabase/postgres-meta) and
 * the Supabase SQL on the stand-in extensions that carry upstream's control metadata: a table made
 * by `twincigo migrate` is listed by pg-meta; a table made through pg-meta (as supabase_admin) gets
 * the API roles' grants; realtime is reached by its tenant's name; realtime's tenant API is closed.
 * Then the design's phases as inventory switches: rest dropped → its container removed by deploy,
 * /rest/v1/ answers 404 from Kong; brought back → 200 again.
 */
const lab = new LabCluster();
const kongUrl = `http://${NODES[0]!.ip}:8000`;
const keys = () => readEnvFile(LAB_ENV_FILE).values;
const LAB_INVENTORY = `${REPO}twincigo.lab.yml`;
const savedInventory = readFileSync(LAB_INVENTORY, 'utf8');
const tmp = tempDir('twincigo-supabase-');

const kong = (path: string, init: RequestInit & { key?: 'anon' | 'service' } = {}) =>
  fetch(`${kongUrl}${path}`, {
    ...init,
    headers: { ...(init.key ? { apikey: init.key === 'anon' ? keys().ANON_KEY! : keys().SERVICE_ROLE_KEY! } : {}), 'content-type': 'application/json', ...init.headers },
    signal: AbortSignal.timeout(15_000),
  });
const sql = async (query: string) => (await lab.conns[0]!.run(lab.sql(0, 5000, query))).stdout.trim();

beforeAll(async () => {
  await lab.upAll();
  await waitFor('Kong routing to pg-meta', async () => (await kong('/pg/tables', { key: 'service' }).catch(() => null))?.status === 200, 120_000, 1000);
}, 600_000);
afterAll(async () => {
  writeFileSync(LAB_INVENTORY, savedInventory);
  tmp.cleanup();
  await lab.release();
});

describe('Supabase through Kong (the real pg-meta)', () => {
  it('a table made by `twincigo migrate` is listed by pg-meta; one made through pg-meta gets the API roles’ grants', async () => {
    writeFileSync(join(tmp.dir, '0001_e2e_supabase.sql'), 'create table if not exists e2e_from_migrate (id bigint generated always as identity primary key, embedding vector(3));\n');
    const migrated = await runCli(['migrate', 'up', '--dir', tmp.dir, '--env', 'lab', '--yes'], { timeoutMs: 120_000 });
    expect(migrated.code, migrated.stderr).toBe(0);
    const tables = (await (await kong('/pg/tables?included_schemas=public', { key: 'service' })).json()) as Array<{ name: string; schema: string }>;
    expect(tables.map((t) => `${t.schema}.${t.name}`)).toContain('public.e2e_from_migrate');
    // pg-meta runs its SQL as supabase_admin: the default privileges give the API roles the table
    const made = await kong('/pg/query', { key: 'service', method: 'POST', body: JSON.stringify({ query: 'create table if not exists e2e_from_meta (id int primary key, note text)' }) });
    expect(made.status, await made.clone().text()).toBe(200);
    expect(await sql("select tableowner from pg_tables where tablename = 'e2e_from_meta'")).toBe('supabase_admin');
    expect(await sql("select has_table_privilege('anon', 'e2e_from_meta', 'SELECT'), has_table_privilege('authenticated', 'e2e_from_meta', 'INSERT'), has_table_privilege('anon', 'e2e_from_migrate', 'SELECT')")).toBe('t|t|t');
    // pg-meta is for the service key only (acl: admin), and never without a key
    expect((await kong('/pg/tables', { key: 'anon' })).status).toBe(403);
    expect((await kong('/pg/tables')).status).toBe(401);
  });

  it('realtime by its tenant name; its tenant API and openapi answer 403; jwks and OAuth metadata reach auth', async () => {
    const rt = await kong('/realtime/v1/api/ping', { key: 'anon' });
    expect(rt.status).toBe(200);
    expect(await rt.json()).toMatchObject({ standin: 'realtime', host: expect.stringMatching(/^realtime-dev\.supabase-realtime/) });
    for (const p of ['/realtime/v1/api/tenants', '/realtime/v1/api/tenants/realtime-dev', '/realtime/v1/api/openapi']) expect((await kong(p, { key: 'service' })).status, p).toBe(403);
    for (const p of ['/auth/v1/.well-known/jwks.json', '/.well-known/oauth-authorization-server']) {
      const r = await kong(p);
      expect(await r.json(), p).toMatchObject({ standin: 'auth' });
    }
  });

  it('supabase.services without rest: deploy removes its container, Kong answers 404; restored, rest is back', async () => {
    const withRest = await kong('/rest/v1/', { key: 'anon' });
    expect(withRest.status).toBe(200);
    const without = ['kong', 'auth', 'realtime', 'storage', 'imgproxy', 'meta', 'studio'];
    writeFileSync(LAB_INVENTORY, savedInventory.replace(/^( {4}rttMs: .*)$/m, `$1\n    supabase:\n      services: [${without.join(', ')}]`));
    const dropped = await runCli(['deploy', '--env', 'lab', '--yes', '--json'], { timeoutMs: 400_000 });
    expect(dropped.code, dropped.stderr.slice(-2000)).toBe(0);
    const hil = containerName(NODES[0]!.name);
    expect((await inNode(hil, ['docker', 'ps', '-a', '--format', '{{.Names}}'])).stdout).not.toMatch(/twincigo-rest-1/);
    const gone = await waitFor('Kong restarted with rest removed', async () => {
      const r = await kong('/rest/v1/', { key: 'anon' }).catch(() => null);
      return r?.status === 404 ? r : false;
    }, 60_000, 1000);
    expect(await gone.json()).toEqual({ message: 'The rest API is not part of this deployment.' });
    expect((await runCli(['status', '--env', 'lab', '--quiet'], { timeoutMs: 60_000 })).code).toBe(0);

    writeFileSync(LAB_INVENTORY, savedInventory);
    const back = await runCli(['deploy', '--env', 'lab', '--yes', '--json'], { timeoutMs: 400_000 });
    expect(back.code, back.stderr.slice(-2000)).toBe(0);
    await waitFor('rest answering through Kong again', async () => (await kong('/rest/v1/', { key: 'anon' }).catch(() => null))?.status === 200, 60_000, 1000);
  });
});
