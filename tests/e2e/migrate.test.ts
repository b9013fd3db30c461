import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockSsh, unblockSsh } from '../lab/faults.ts';
import { waitFor } from '../lab/run.ts';
import { runCli, startCli, type CliOptions } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { LabCluster } from './cluster.ts';

/**
 * `twincigo migrate` against the lab's core stack: pg over an SSH channel to a node's HAProxy
 * :5000, the tracking table, checksums, rollback of a failing file, the advisory lock between two
 * operators, the next node when one refuses SSH, and a switchover in the middle of a run.
 */
const lab = new LabCluster();
const tmp = tempDir('twincigo-migrations-');
const dir = tmp.dir;
const file = (name: string) => join(dir, name);

const cli = (args: string[], opts: CliOptions = {}) => runCli(['migrate', '--dir', dir, ...args, '--env', 'lab'], { timeoutMs: 120_000, ...opts, env: { TWINCIGO_OPERATOR: 'e2e', ...opts.env } });
const json = async (args: string[], opts: CliOptions = {}) => {
  const res = await cli([...args, '--json'], opts);
  return { ...res, body: JSON.parse(res.stdout) as Record<string, unknown> };
};
/** A query on the leader, through node 0's HAProxy. */
async function sql(query: string): Promise<string> {
  const res = await lab.conns[0]!.exec(lab.sql(0, 5000, query));
  if (res.code !== 0) throw new Error(`${query}: ${res.stderr}`);
  return res.stdout.trim();
}
const recorded = () => sql("select coalesce(string_agg(version::text, ',' order by version), '') from twincigo.schema_migrations");

beforeAll(async () => {
  await lab.upCore();
  await waitFor('HAProxy :5000 to the leader', async () => (await lab.conns[0]!.exec(lab.sql(0, 5000, 'select 1'))).code === 0, 60_000, 500);
  // the same lab may have served other tests: start from a database without our objects
  await sql('drop schema if exists twincigo cascade; drop table if exists e2e_contacts, e2e_half, e2e_ledger cascade; drop function if exists e2e_greet(text)');
}, 300_000);
afterAll(async () => {
  tmp.cleanup();
  await lab.release();
});

describe('twincigo migrate', () => {
  it('create, status, dry run, up --to, up; the tracking rows hold the files\' sha256; a re-run applies nothing', async () => {
    const created = await runCli(['migrate', 'create', 'Contacts table', '--dir', dir]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('0001_contacts_table.sql');
    appendFileSync(file('0001_contacts_table.sql'), "create table e2e_contacts (id serial primary key, email text not null);\ninsert into e2e_contacts (email) values ('a@example.com'), ('b;c@example.com');\n");
    expect((await runCli(['migrate', 'create', 'contacts_email_idx', '--no-transaction', '--dir', dir])).code).toBe(0);
    appendFileSync(file('0002_contacts_email_idx.sql'), 'create index concurrently if not exists e2e_contacts_email on e2e_contacts (email);\n');
    writeFileSync(file('0003_greet.sql'), "create function e2e_greet(who text) returns text language plpgsql as $$\nbegin\n  return 'hello; ' || who;\nend;\n$$;\n");

    const before = await json(['status']);
    expect(before.code, before.stderr).toBe(0);
    expect(before.body.summary).toEqual({ applied: 0, pending: 3, changed: 0, missing: 0 });

    const dry = await cli(['up', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would apply 3[\s\S]*0001_contacts_table\n {2}0002_contacts_email_idx {2}\(no transaction\)\n {2}0003_greet/);
    expect(await sql("select to_regclass('twincigo.schema_migrations') is null")).toBe('t');

    const first = await json(['up', '--to', '0002']);
    expect(first.code, first.stderr).toBe(0);
    expect((first.body.applied as { id: string }[]).map((a) => a.id)).toEqual(['0001', '0002']);
    const rest = await json(['up']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.body).toMatchObject({ ok: true, alreadyApplied: 2, applied: [{ id: '0003', name: 'greet' }] });

    const after = await json(['status']);
    expect(after.body.summary).toEqual({ applied: 3, pending: 0, changed: 0, missing: 0 });
    const rows = after.body.migrations as { id: string; sha256: string; appliedBy: string }[];
    for (const r of rows) {
      const name = ['0001_contacts_table.sql', '0002_contacts_email_idx.sql', '0003_greet.sql'].find((n) => n.startsWith(r.id))!;
      expect(r.sha256).toBe(createHash('sha256').update(readFileSync(file(name))).digest('hex'));
      expect(r.appliedBy).toBe('e2e');
    }
    expect(await sql("select count(*) from e2e_contacts where email like '%;%'")).toBe('1');
    expect(await sql("select indisvalid from pg_index where indexrelid = 'e2e_contacts_email'::regclass")).toBe('t');
    expect(await sql("select e2e_greet('ops')")).toBe('hello; ops');

    const again = await cli(['up']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('lab: nothing to apply (3 applied already');
    expect(await recorded()).toBe('1,2,3');
  });

  it('a file changed after it was applied: status exits 1, up refuses and applies nothing (not even pending files)', async () => {
    const original = readFileSync(file('0001_contacts_table.sql'), 'utf8');
    appendFileSync(file('0001_contacts_table.sql'), 'alter table e2e_contacts add column phone text;\n');
    writeFileSync(file('0004_contacts_name.sql'), 'alter table e2e_contacts add column name text;\n');
    try {
      const status = await cli(['status']);
      expect(status.code).toBe(1);
      expect(status.stdout).toMatch(/0001 +contacts_table +changed +sha256 differs from the one applied/);
      const up = await cli(['up']);
      expect(up.code).toBe(1);
      expect(up.stderr).toMatch(/migrate up refused: nothing was applied\n {2}- 0001_contacts_table was changed after it was applied .* restore the file as applied and put the change in a new migration/);
      expect(await recorded()).toBe('1,2,3');
      expect(await sql("select count(*) from information_schema.columns where table_name = 'e2e_contacts' and column_name in ('phone', 'name')")).toBe('0');
    } finally {
      writeFileSync(file('0001_contacts_table.sql'), original);
    }
    const up = await cli(['up']);
    expect(up.code, up.stderr).toBe(0);
    expect(await recorded()).toBe('1,2,3,4');
  });

  it('a failing migration is rolled back and not recorded; the error names file:line and the server\'s message', async () => {
    writeFileSync(file('0005_half.sql'), 'create table e2e_half (id int);\ninsert into e2e_half values (1);\n\ninsert into e2e_missing\n  values (1);\n');
    try {
      const up = await cli(['up']);
      expect(up.code).toBe(1);
      expect(up.stderr).toContain(`error: migration 0005_half failed at ${file('0005_half.sql')}:4: relation "e2e_missing" does not exist (SQLSTATE 42P01)`);
      expect(up.stderr).toContain('rolled back: nothing of 0005_half was applied or recorded');
      expect(await sql("select to_regclass('e2e_half') is null")).toBe('t');
      expect(await recorded()).toBe('1,2,3,4');
    } finally {
      rmSync(file('0005_half.sql'));
    }
  });

  it('two operators at once: the second is told who holds the lock, a third with --lock-wait waits for it', async () => {
    writeFileSync(file('0006_slow.sql'), 'select pg_sleep(4);\n');
    const alice = startCli(['migrate', '--dir', dir, 'up', '--env', 'lab'], { timeoutMs: 120_000, env: { TWINCIGO_OPERATOR: 'alice' } });
    await waitFor('alice holds the migration lock', async () => (await sql("select count(*) from pg_locks where locktype = 'advisory' and granted and objid::bigint = 1835624306")) === '1', 30_000, 100);
    const carol = startCli(['migrate', '--dir', dir, 'up', '--lock-wait', '60', '--env', 'lab'], { timeoutMs: 120_000, env: { TWINCIGO_OPERATOR: 'carol' } });
    const bob = await cli(['up'], { env: { TWINCIGO_OPERATOR: 'bob' } });
    expect(bob.code).toBe(1);
    expect(bob.stderr).toMatch(/error: migrations are locked: twincigo migrate: alice \(backend pid \d+, connected since .*\) is migrating\n {2}hint: wait for it to finish \(--lock-wait <seconds> waits for it\)/);
    const a = await alice.done;
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('applied 1 migration');
    const c = await carol.done;
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain('waiting for the migration lock held by twincigo migrate: alice');
    expect(c.stdout).toContain('nothing to apply');
    expect(await sql("select applied_by from twincigo.schema_migrations where version = 6")).toBe('alice');
  });

  it('a node that refuses SSH is skipped: the next one carries the tunnel', async () => {
    await blockSsh('lab-hil-1');
    try {
      const st = await json(['status']);
      expect(st.code, st.stderr).toBe(0);
      expect(st.stderr).toMatch(/lab-hil-1: no connection to the leader \(.*\); trying the next node/);
      expect(st.body.via).toBe('lab-ash-1');
    } finally {
      await unblockSsh('lab-hil-1');
    }
  });

  it('a switchover in the middle of a run: the run stops without a half-applied or doubly recorded migration, a re-run converges', async () => {
    writeFileSync(file('0007_ledger.sql'), 'create table e2e_ledger (version int primary key);\n');
    for (let v = 8; v <= 37; v++) writeFileSync(file(`${String(v).padStart(4, '0')}_step.sql`), `insert into e2e_ledger values (${v});\nselect pg_sleep(0.25);\n`);
    const run = startCli(['migrate', '--dir', dir, 'up', '--env', 'lab'], { timeoutMs: 120_000, env: { TWINCIGO_OPERATOR: 'e2e' } });
    await waitFor('a few steps applied', async () => Number(await sql('select count(*) from twincigo.schema_migrations where version >= 8')) >= 3, 60_000, 100);
    const sw = await runCli(['switchover', '--env', 'lab', '--yes', '--quiet'], { timeoutMs: 180_000 });
    expect(sw.code, sw.stderr).toBe(0);
    const interrupted = await run.done;
    expect(interrupted.code).toBe(1);
    expect(interrupted.stderr).toMatch(/the connection to the leader was lost[\s\S]*run twincigo migrate up again/);

    await waitFor('the new leader behind HAProxy', async () => (await cli(['status'])).code === 0, 60_000, 1000);
    const rerun = await cli(['up']);
    expect(rerun.code, rerun.stderr).toBe(0);
    // every step exactly once: its row in the ledger and its tracking row, in the same transaction
    expect(await sql('select count(*), count(distinct version), min(version), max(version) from e2e_ledger')).toBe('30|30|8|37');
    expect(await sql('select count(*) from twincigo.schema_migrations where version between 7 and 37')).toBe('31');
    const st = await json(['status']);
    // 0005 was removed after it failed: 36 files
    expect(st.body.summary).toEqual({ applied: 36, pending: 0, changed: 0, missing: 0 });
  }, 300_000);
});
