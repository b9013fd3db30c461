import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { errorLine, isConnectionLoss, openingSql, MigrationError } from '../../src/migrate/apply.js';
import { checksum, createMigration, parseMigration, readMigrations } from '../../src/migrate/files.js';
import { HOLDER_SQL, TRY_LOCK_SQL } from '../../src/migrate/lock.js';
import { listNames, statusTable, summarize } from '../../src/migrate/report.js';
import { compareState, planUp, type AppliedRow } from '../../src/migrate/state.js';
import { splitStatements } from '../../src/migrate/statements.js';
import { socketFromChannel } from '../../src/migrate/connect.js';
import { PassThrough } from 'node:stream';
import { tempDir } from '../helpers/tmp.js';

describe('splitStatements', () => {
  it('splits on semicolons outside quotes, dollar quotes, comments and parentheses, keeping start lines', () => {
    const sql = [
      '-- header comment; not a statement',
      'create table a (id int, note text default \'x;y\');',
      '',
      '/* block; /* nested; */ still comment */',
      'insert into a values (1, E\'it\\\'s; fine\');',
      'create function f() returns int language plpgsql as $fn$',
      'begin',
      '  return 1; -- inside',
      'end;',
      '$fn$;',
      'select "semi;colon" from a;select 2',
    ].join('\n');
    const st = splitStatements(sql);
    expect(st.map((s) => s.line)).toEqual([2, 5, 6, 11, 11]);
    expect(st[0]!.sql).toBe("create table a (id int, note text default 'x;y');");
    expect(st[1]!.sql).toBe("insert into a values (1, E'it\\'s; fine');");
    expect(st[2]!.sql).toContain('return 1; -- inside');
    expect(st[2]!.sql.endsWith('$fn$;')).toBe(true);
    expect(st[4]!.sql).toBe('select 2');
  });

  it('keeps a BEGIN ATOMIC … END body (with CASE … END inside) in one statement', () => {
    const sql = 'create function g(x int) returns int language sql\nbegin atomic\n  select case when x > 0 then 1 else 0 end;\n  select 2;\nend;\nselect 3;';
    const st = splitStatements(sql);
    expect(st).toHaveLength(2);
    expect(st[0]!.sql.endsWith('end;')).toBe(true);
    expect(st[1]).toEqual({ sql: 'select 3;', line: 6 });
  });

  it('doubled quotes and a $ inside identifiers are not quote starts', () => {
    const st = splitStatements("select 'it''s;' as a$b, $1::int; select 1");
    expect(st.map((s) => s.sql)).toEqual(["select 'it''s;' as a$b, $1::int;", 'select 1']);
  });
});

describe('migration files', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());
  const dir = () => {
    const t = tempDir();
    cleanup = t.cleanup;
    return t.dir;
  };

  it('reads NNNN_name.sql in version order with checksums; CRLF and LF give the same sum', () => {
    const d = dir();
    writeFileSync(join(d, '0002_b.sql'), 'select 2;\r\n');
    writeFileSync(join(d, '0001_a.sql'), 'select 1;\n');
    writeFileSync(join(d, 'README.md'), 'not sql');
    const ms = readMigrations(d, d);
    expect(ms.map((m) => [m.id, m.name, m.display, m.transactional])).toEqual([
      ['0001', 'a', '0001_a.sql', true],
      ['0002', 'b', '0002_b.sql', true],
    ]);
    expect(ms[1]!.sha256).toBe(checksum('select 2;\n'));
  });

  it('lists every bad file at once: names, duplicate versions, transaction control, meta-commands; an empty stub is not one', () => {
    const d = dir();
    writeFileSync(join(d, '1_short.sql'), 'select 1;');
    writeFileSync(join(d, '0003_x.sql'), 'select 1;');
    writeFileSync(join(d, '0003_y.sql'), 'select 1;');
    writeFileSync(join(d, '0004_tx.sql'), 'begin;\ncreate table t();\ncommit;');
    writeFileSync(join(d, '0005_meta.sql'), '\\i other.sql');
    writeFileSync(join(d, '0006_empty.sql'), '-- nothing yet\n');
    expect(() => readMigrations(d, d)).toThrow(
      /migrations in \.: 5 problems[\s\S]*0004_tx\.sql:1: "begin" — each migration already runs in its own transaction[\s\S]*0004_tx\.sql:3: "commit"[\s\S]*0005_meta\.sql:1: psql meta-commands[\s\S]*1_short\.sql: name must be NNNN_name\.sql[\s\S]*version 3 is used by 2 files: 0003_x\.sql, 0003_y\.sql/,
    );
  });

  it('the no-transaction marker in the leading comments opts out (and allows COMMIT-free concurrent indexes)', () => {
    const a = parseMigration('/m/0001_idx.sql', '-- add an index\n-- twincigo:no-transaction\ncreate index concurrently if not exists i on t (x);', '/m').migration!;
    expect(a.transactional).toBe(false);
    const b = parseMigration('/m/0002_x.sql', 'select 1;\n-- twincigo:no-transaction\n', '/m').migration!;
    expect(b.transactional).toBe(true);
  });

  it('create: the next version, a slug name, never overwriting; a header that explains the mode', () => {
    const d = dir();
    expect(() => readMigrations(join(d, 'none'), d)).toThrow('migrations folder none does not exist');
    const first = createMigration(d, 'Add Contacts table!');
    expect(first).toBe(join(d, '0001_add_contacts_table.sql'));
    writeFileSync(first, 'create table contacts(id int);');
    const second = createMigration(d, 'idx', true);
    expect(second).toBe(join(d, '0002_idx.sql'));
    expect(readFileSync(second, 'utf8')).toContain('-- twincigo:no-transaction');
    expect(() => createMigration(d, '!!!')).toThrow(/has no letters or digits/);
  });
});

describe('tracking state', () => {
  const file = (version: number, name: string, sha256: string) => ({ version, id: String(version).padStart(4, '0'), name, file: '', display: '', sha256, transactional: true, statements: [], empty: false });
  const row = (version: number, name: string, sha256: string): AppliedRow => ({ version, name, sha256, appliedAt: '2026-11-26T01:00:00.000Z', appliedBy: 'op@h', durationMs: 3 });

  it('applied, pending, changed, missing; up applies pending up to --to, refuses drift and out-of-order files', () => {
    const files = [file(1, 'a', 's1'), file(2, 'b', 'CHANGED'), file(3, 'c', 's3'), file(5, 'e', 's5')];
    const st = compareState(files, [row(1, 'a', 's1'), row(2, 'b', 's2'), row(4, 'd', 's4')]);
    expect(st.map((s) => [s.version, s.state, s.outOfOrder ?? false])).toEqual([
      [1, 'applied', false],
      [2, 'changed', false],
      [3, 'pending', true],
      [4, 'missing', false],
      [5, 'pending', false],
    ]);
    expect(summarize(st)).toEqual({ applied: 1, pending: 2, changed: 1, missing: 1 });
    const up = planUp(st);
    expect(up.refusals).toHaveLength(2);
    expect(up.refusals[0]).toMatch(/0002_b was changed after it was applied \(2026-11-26T01:00:00.000Z by op@h\)/);
    expect(up.refusals[1]).toMatch(/0003_c is pending but older than migrations already applied/);
    const clean = compareState([file(1, 'a', 's1'), file(2, 'b', 's2'), file(3, 'c', 's3')], [row(1, 'a', 's1')]);
    expect(planUp(clean, 2)).toEqual({ apply: [clean[1]], refusals: [] });
    expect(statusTable(clean)).toMatch(/0001 {5}a {5}applied {2}2026-11-26T01:00:00Z {2}3 ms {2}op@h\n {2}0002 {5}b {5}pending/);
  });

  it('an empty stub is pending (shown "empty: no SQL yet"); up refuses to apply it, not the folder', () => {
    const stub = { ...file(2, 'todo', 'e3b0'), empty: true };
    const st = compareState([file(1, 'a', 's1'), stub], [row(1, 'a', 's1')]);
    expect(st[1]).toMatchObject({ state: 'pending', empty: true });
    expect(statusTable(st)).toMatch(/0002 {5}todo {2}pending {2}empty: no SQL yet/);
    expect(planUp(st).refusals).toEqual(['0002_todo has no SQL yet — write it, or delete the file']);
    expect(planUp(st, 1).refusals).toEqual([]);
  });

  it('long lists are shortened', () => {
    const ms = [1, 2, 3, 4, 5].map((v) => ({ id: `000${v}`, name: 'x' }));
    expect(listNames(ms.slice(0, 2))).toBe('0001_x, 0002_x');
    expect(listNames(ms)).toBe('0001_x … 0005_x (5)');
  });
});

describe('applying', () => {
  it('opens a transaction with reset settings and quoted timeouts, or sets them for the session', () => {
    expect(openingSql(true, { lockTimeout: '5s', statementTimeout: "1'min" })).toBe("BEGIN; RESET ALL; SET LOCAL lock_timeout = '5s'; SET LOCAL statement_timeout = '1''min'");
    expect(openingSql(false, { lockTimeout: '5s', statementTimeout: '15min' })).toBe("RESET ALL; SET lock_timeout = '5s'; SET statement_timeout = '15min'");
  });

  it('server errors are located by statement line plus the position inside it', () => {
    const s = { sql: 'create table t (\n  id int,\n  x nope\n);', line: 10 };
    expect(errorLine(s, String(s.sql.indexOf('nope') + 1))).toBe(12);
    expect(errorLine(s, undefined)).toBe(10);
  });

  it('a lost connection is told apart from an SQL error', () => {
    expect(isConnectionLoss(Object.assign(new Error('x'), { code: '42P01' }))).toBe(false);
    expect(isConnectionLoss(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isConnectionLoss(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it('the error names file:line, the server message, detail and hint, and what happened to the migration', () => {
    const m = parseMigration('/w/migrations/0004_bad.sql', 'select 1;\n\ninsert into t\n  values (nope);', '/w').migration!;
    const err = Object.assign(new Error('column "nope" does not exist'), { code: '42703', position: '24', hint: 'Perhaps you meant "note".' });
    const e = new MigrationError(m, m.statements[1], err, false);
    expect(e.message).toBe(
      [
        'migration 0004_bad failed at migrations/0004_bad.sql:4: column "nope" does not exist (SQLSTATE 42703)',
        '  hint: Perhaps you meant "note".',
        '  4 | values (nope);',
        'rolled back: nothing of 0004_bad was applied or recorded',
      ].join('\n'),
    );
    const lost = new MigrationError(m, m.statements[0], new Error('Connection terminated unexpectedly'), true);
    expect(lost.message).toMatch(/lost: the server rolls back 0004_bad unless its COMMIT had reached it[\s\S]*run twincigo migrate up again/);
  });
});

describe('lock and tunnel', () => {
  it('one advisory key, and the holder is found by that key', () => {
    expect(TRY_LOCK_SQL).toBe('SELECT pg_try_advisory_lock(1954011502, 1835624306) AS locked');
    expect(HOLDER_SQL).toContain('l.classid::bigint = 1954011502 AND l.objid::bigint = 1835624306 AND l.objsubid = 2');
  });

  it('an SSH channel becomes a connected socket for pg', async () => {
    const s = socketFromChannel(new PassThrough()) as PassThrough & { connect: () => unknown; setNoDelay: () => unknown };
    const connected = new Promise((r) => s.once('connect', r));
    expect(s.setNoDelay()).toBe(s);
    s.connect();
    await connected;
  });
});
