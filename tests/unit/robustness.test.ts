import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readInventory, resolveEnvironment } from '../../src/config/load.js';
import { parseEnvText } from '../../src/config/env-parse.js';
import { ConfigError, EXIT, TwincigoError } from '../../src/errors.js';
import { parseMigration, readMigrations } from '../../src/migrate/files.js';
import { splitStatements } from '../../src/migrate/statements.js';
import { runCli } from '../helpers/cli.js';
import { validInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Generated inputs (a seeded generator, so a failure is reproducible from its seed) for the three
 * parsers operators feed by hand: every input is accepted, or refused with exit 2 and messages that
 * each name a path or a line — never a stack trace (an unexpected exception), never a hang.
 * The counts and the slowest input are written to BENCHMARKS.md.
 */
const RUNS = Number(process.env.TWINCIGO_FUZZ_RUNS ?? 2500);
const SLOWEST_MS = 1000;

/** mulberry32: a small, fast, seedable PRNG. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof rng>;

const ATOMS = ['', ' ', 'a', 'x-1', '10.0.0.1', '::1', '999.1.1.1', 'host.example.com', '-bad-', '; rm -rf /', '$(id)', '`id`', "'", '"', '\\', '\n', '\t', '#', '=', '{', '[', ':', '…', '🙂', 'null', 'true', '0', '-1', '1e9', 'NaN', '<fill in>', 'A'.repeat(300)];
const VALUES = (r: Rng): unknown => r.pick<() => unknown>([() => r.pick(ATOMS), () => r.int(70000) - 100, () => null, () => true, () => [], () => ({}), () => [r.pick(ATOMS)], () => ({ [r.pick(ATOMS)]: r.pick(ATOMS) })])();

/** A valid inventory, then 1–4 random mutations: keys deleted, values replaced, keys added, nodes duplicated; sometimes the YAML text itself is broken. */
function inventoryText(r: Rng): string {
  const doc = validInventory();
  const mutations = 1 + r.int(4);
  for (let m = 0; m < mutations; m++) {
    // a random object inside the document
    let obj: any = doc;
    for (let d = 0; d < 1 + r.int(5); d++) {
      const keys = Object.keys(obj);
      if (keys.length === 0) break;
      const child = obj[r.pick(keys)];
      if (child === null || typeof child !== 'object') break;
      obj = child;
    }
    const keys = Object.keys(obj);
    const key = keys.length > 0 ? r.pick(keys) : 'k';
    switch (r.int(5)) {
      case 0: delete obj[key]; break;
      case 1: obj[key] = VALUES(r); break;
      case 2: obj[r.pick(['host', 'privateAddress', 'roles', 'ssh', 'name', 'profile', 'initialLeader', 'nodes', 'extra', 'port', 'baseDir', 'postgres'])] = VALUES(r); break;
      case 3: if (Array.isArray(obj)) obj.push(structuredClone(obj[0] ?? {})); else obj[key] = structuredClone(doc.environments?.dev?.nodes ?? []); break;
      default: if (Array.isArray(obj[key])) obj[key].push(VALUES(r)); else obj[key] = [obj[key], VALUES(r)];
    }
  }
  let text = stringify(doc);
  if (r.int(6) === 0) {
    const at = r.int(text.length + 1);
    text = text.slice(0, at) + r.pick(['\t', ': :', '- ', '"', '{', '[', '&a *a', '!!binary', '\n  ', 'key: value\nkey: again\n', '%']) + text.slice(at);
  }
  return text;
}

function envText(r: Rng): string {
  const keys = ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'JWT_SECRET', 'SITE_URL', 'BACKEND_IMAGE', 'POSTGRES_PASSWROD', 'NODE_IP', 'lower_key', '1BAD', 'REDIS PASSWORD', 'export POSTGRES_PASSWORD'];
  const values = ['x', 'pg-Wq7Zr2Xk9Lm4Tn8', "'quoted value'", '"double \\" quoted"', '"unterminated', "'unterminated", 'a #comment', '"x" trailing', '', ' spaced ', 'é🙂', '$HOME', '"\\n\\t\\\\"'];
  const lines: string[] = [];
  for (let i = 0; i < r.int(12); i++) {
    lines.push(
      r.pick<() => string>([
        () => `${r.pick(keys)}=${r.pick(values)}`,
        () => `${r.pick(keys)} = ${r.pick(values)}`,
        () => `# ${r.pick(values)}`,
        () => '',
        () => r.pick(values),
        () => `${r.pick(keys)}`,
        () => `=${r.pick(values)}`,
        () => r.pick(ATOMS),
      ])(),
    );
  }
  return (r.int(10) === 0 ? '\uFEFF' : '') + lines.join(r.int(5) === 0 ? '\r\n' : '\n');
}

function sqlText(r: Rng): string {
  const parts = ['select 1', ';', "'it''s; here'", 'E\'a\\\'b;\'', '"quoted;ident"', '$$ body; $$', '$tag$ x; $tag$', '$tag$ unclosed', '-- comment;\n', '/* block; /* nested */ */', '/* unclosed', '(', ')', 'begin', 'commit', 'BEGIN ATOMIC', 'END', 'case', '\\i file', '\n', ' ', "'", '"', '$', 'create table t (id int)', 'create index concurrently i on t(x)', '-- twincigo:no-transaction\n', '🙂', '\r\n'];
  let s = '';
  for (let i = 0; i < r.int(30); i++) s += r.pick(parts) + (r.int(3) === 0 ? ' ' : '');
  return s;
}

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir()));
afterAll(() => tmp.cleanup());

/** Runs `check` on RUNS generated inputs; returns accepted/refused counts and the slowest input. */
function campaign(seed: number, gen: (r: Rng) => string, check: (input: string, i: number) => 'accepted' | 'refused') {
  const r = rng(seed);
  const out = { accepted: 0, refused: 0, slowestMs: 0 };
  for (let i = 0; i < RUNS; i++) {
    const input = gen(r);
    const t = performance.now();
    let verdict: 'accepted' | 'refused';
    try {
      verdict = check(input, i);
    } catch (err) {
      throw new Error(`seed ${seed}, input ${i}: unexpected ${String(err)}\n--- input ---\n${input}`);
    }
    out[verdict]++;
    out.slowestMs = Math.max(out.slowestMs, performance.now() - t);
  }
  expect(out.slowestMs).toBeLessThan(SLOWEST_MS);
  return out;
}

/** A refusal must be ours (exit 2) and every problem must name where: a path, a file:line, or a line. */
function refusedPrecisely(err: unknown, where: RegExp, input: string): 'refused' {
  if (!(err instanceof TwincigoError)) throw err;
  expect(err.exitCode, err.message).toBe(EXIT.usage);
  const problems = err instanceof ConfigError ? err.problems : err.message.split('\n').slice(1).map((l) => l.replace(/^\s+- /, ''));
  for (const p of problems.length > 0 ? problems : [err.message]) expect(p, `${p}\n--- input ---\n${input}`).toMatch(where);
  return 'refused';
}

describe(`generated inputs (${RUNS} per parser, seeded)`, () => {
  it('inventory loader: accepted, or exit 2 with every problem naming its path or line', () => {
    const file = join(tmp.dir, 'twincigo.yml');
    const res = campaign(20261130, inventoryText, (text) => {
      writeFileSync(file, text);
      try {
        const inv = readInventory(file);
        for (const name of Object.keys(inv.spec.environments)) resolveEnvironment(inv, name);
        return 'accepted';
      } catch (err) {
        return refusedPrecisely(err, /^(line \d+, column \d+: |fill in the \S+ hosts: |\(top level\): |(environments|version|migrations|baseDir|ssh)\b[^\n]*: |[^\n]+: unknown key$|\[[^\n]+: )/, text);
      }
    });
    console.log(`inventory: ${JSON.stringify(res)}`);
    expect(res.accepted).toBeGreaterThan(0);
    expect(res.refused).toBeGreaterThan(RUNS / 4);
  });

  it('env-file parser: every line it refuses is named file:line; what it accepts round-trips', () => {
    const res = campaign(7, envText, (text) => {
      const parsed = parseEnvText(text, '/x/.env');
      for (const p of parsed.problems) expect(p, text).toMatch(/^\/x\/\.env:\d+: /);
      for (const [k, line] of Object.entries(parsed.lines)) {
        expect(k).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
        expect(line).toBeGreaterThan(0);
      }
      return parsed.problems.length > 0 ? 'refused' : 'accepted';
    });
    console.log(`env file: ${JSON.stringify(res)}`);
    expect(res.accepted).toBeGreaterThan(0);
    expect(res.refused).toBeGreaterThan(0);
  });

  it('migration files: the splitter never throws or hangs and keeps lines in range; the loader refuses with file:line or file', () => {
    const dir = join(tmp.dir, 'migrations');
    mkdirSync(dir);
    const res = campaign(42, sqlText, (sql, i) => {
      const lines = sql.split('\n').length;
      for (const st of splitStatements(sql)) {
        expect(st.line).toBeGreaterThanOrEqual(1);
        expect(st.line).toBeLessThanOrEqual(lines);
        expect(st.sql.trim()).not.toBe('');
      }
      parseMigration(`/m/000${i % 10}_x.sql`, sql, '/m');
      const file = join(dir, '0001_gen.sql');
      writeFileSync(file, sql);
      try {
        readMigrations(dir, dir);
        return 'accepted';
      } catch (err) {
        return refusedPrecisely(err, /^0001_gen\.sql(:\d+)?: /, sql);
      }
    });
    console.log(`migrations: ${JSON.stringify(res)}`);
    expect(res.accepted).toBeGreaterThan(0);
    expect(res.refused).toBeGreaterThan(0);
  });

  it('the built CLI on a sample of them: exit 0 or 2, one error block, never a stack trace', async () => {
    const r = rng(99);
    const file = join(tmp.dir, 'cli.yml');
    const codes: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      writeFileSync(file, inventoryText(r));
      const res = await runCli(['config', 'check', '-c', file]);
      codes[String(res.code)] = (codes[String(res.code)] ?? 0) + 1;
      expect([0, 2], res.stderr).toContain(res.code);
      expect(res.stderr).not.toMatch(/\n\s+at .*:\d+:\d+\)?\n/);
      if (res.code === 2) expect(res.stderr).toMatch(/^error: /);
    }
    console.log(`cli sample: ${JSON.stringify(codes)}`);
  }, 60_000);
});
