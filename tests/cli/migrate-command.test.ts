import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { unreachableInventory, validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `twincigo migrate` where no database is reachable: files are checked before any connection,
 * `create` needs no environment, and every node failing is one clear error. Every node points at
 * 127.0.0.x port 1 (nothing listens). The lab e2e test covers the database side.
 */
let tmp: ReturnType<typeof tempDir>;
let inv: string;
const SECRET = 'pg-Vx7Qm2Lr9Tz4Wk8';

beforeAll(() => {
  tmp = tempDir();
  const doc = unreachableInventory(tmp.dir);
  doc.migrations = { dir: 'db/migrations' };
  inv = writeInventory(tmp.dir, doc);
  mkdirSync(join(tmp.dir, 'env'));
  writeFileSync(join(tmp.dir, 'env', '.env.dev'), `POSTGRES_PASSWORD=${SECRET}\n`, { mode: 0o600 });
});
afterAll(() => tmp.cleanup());

const dir = () => join(tmp.dir, 'db', 'migrations');

describe('twincigo migrate without a database', () => {
  it('create: numbered files in migrations.dir beside the inventory, no environment needed', async () => {
    const a = await runCli(['migrate', 'create', 'add contacts', '-c', inv]);
    expect(a.code, a.stderr).toBe(0);
    expect(existsSync(join(dir(), '0001_add_contacts.sql'))).toBe(true);
    const b = await runCli(['migrate', 'create', 'contacts_idx', '--no-transaction', '-c', inv, '--json']);
    expect(JSON.parse(b.stdout)).toEqual({ ok: true, file: join(dir(), '0002_contacts_idx.sql') });
    expect(readFileSync(join(dir(), '0002_contacts_idx.sql'), 'utf8')).toContain('-- twincigo:no-transaction');
  });

  it('fresh stubs (no SQL yet) do not break the folder; bad files are refused before any connection, all at once (exit 2)', async () => {
    // 0001 and 0002 hold only their header comments yet: read fine (shown pending/empty, refused by up)
    const stubs = await runCli(['migrate', 'status', '-c', inv, '--env', 'dev'], { timeoutMs: 60_000 });
    expect(stubs.code).toBe(1); // the nodes are unreachable: the folder itself was accepted
    expect(stubs.stderr).not.toContain('problem');
    writeFileSync(join(dir(), '0003_bad.sql'), 'begin;\nselect 1;\n');
    writeFileSync(join(dir(), '3_short.sql'), 'select 1;\n');
    const res = await runCli(['migrate', 'status', '-c', inv, '--env', 'dev']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/2 problems\n {2}- .*0003_bad\.sql:1: "begin" — each migration already runs in its own transaction.*\n {2}- .*3_short\.sql: name must be NNNN_name\.sql/);
    expect(res.stderr).toContain('hint: fix the files; nothing was applied');
    expect(res.stderr).not.toMatch(/127\.0\.0|ECONNREFUSED/);
    rmSync(join(dir(), '0003_bad.sql'));
    rmSync(join(dir(), '3_short.sql'));
  }, 90_000);

  it('--dir naming a folder that does not exist: exit 2, not an empty set', async () => {
    const res = await runCli(['migrate', 'status', '--dir', join(tmp.dir, 'no-such-folder'), '-c', inv, '--env', 'dev']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/migrations folder .*no-such-folder does not exist/);
    const up = await runCli(['migrate', 'up', '--dir', join(tmp.dir, 'no-such-folder'), '-c', inv, '--env', 'dev', '--json']);
    expect(up.code).toBe(2);
    expect(JSON.parse(up.stdout)).toMatchObject({ ok: false, exitCode: 2 });
  });

  it('flags are checked before any connection', async () => {
    writeFileSync(join(dir(), '0001_add_contacts.sql'), 'create table contacts (id int);\n');
    writeFileSync(join(dir(), '0002_contacts_idx.sql'), '-- twincigo:no-transaction\ncreate index concurrently if not exists i on contacts (id);\n');
    const to = await runCli(['migrate', 'up', '--to', '0009', '-c', inv, '--env', 'dev']);
    expect(to.code).toBe(2);
    expect(to.stderr).toMatch(/--to 0009: no migration file has version 9\n {2}hint: versions: 1, 2/);
    const timeout = await runCli(['migrate', 'up', '--lock-timeout', 'soon', '-c', inv, '--env', 'dev']);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain('--lock-timeout soon: must be a PostgreSQL duration');
  });

  it('no node reachable: each is tried and named, one error, exit 1, the password never printed', async () => {
    const res = await runCli(['migrate', 'status', '-c', inv, '--env', 'dev'], { timeoutMs: 60_000 });
    expect(res.code).toBe(1);
    for (const n of ['hil-1', 'ash-1', 'ash-2']) expect(res.stderr).toMatch(new RegExp(`warn.*${n}: no connection to the leader .*trying the next node|${n}: no connection to the leader`));
    expect(res.stderr).toMatch(/error: no node gave a connection to the leader through HAProxy :5000\n {2}hint: hil-1: .*\n {2}hint: ash-1: .*\n {2}hint: ash-2: .*\n {2}hint: twincigo status shows what is down/);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
  });

  it('an invalid migrations section in the inventory is a config error (exit 2)', async () => {
    const doc = validInventory();
    doc.migrations = { lockTimeout: 'soon', extra: 1 };
    const bad = writeInventory(tmp.dir, doc, 'bad.yml');
    const res = await runCli(['migrate', 'status', '-c', bad, '--env', 'dev']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('migrations.lockTimeout: must be a PostgreSQL duration');
    expect(res.stderr).toContain('migrations.extra: unknown key');
  });
});
