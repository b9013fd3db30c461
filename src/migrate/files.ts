import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UsageError } from '../errors.js';
import { isTransactionControl, splitStatements, type Statement } from './statements.js';

/**
 * Migration files: `NNNN_name.sql` in the migrations dir, applied in version order. A file whose
 * first lines hold the marker `-- twincigo:no-transaction` runs outside a transaction (for
 * CREATE INDEX CONCURRENTLY and the like); every other file runs in its own transaction.
 */
export const FILE_NAME = /^(\d{4,})_([a-z0-9][a-z0-9_]*)\.sql$/;
export const NO_TRANSACTION_MARKER = '-- twincigo:no-transaction';

export interface Migration {
  version: number;
  /** "0003" as in the file name. */
  id: string;
  name: string;
  file: string;
  /** Shown to people: relative to the current directory. */
  display: string;
  sha256: string;
  transactional: boolean;
  statements: Statement[];
  /** A file with no SQL yet (a fresh `migrate create`): shown as pending, refused by `up`. */
  empty: boolean;
}

/** A path for people: relative when under the current directory, else absolute. */
export function shown(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}

/** The checksum of a file's text; CRLF and LF line endings give the same sum (git autocrlf). */
export function checksum(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}

/** A statement quoted in a one-line problem: its first line, at most 60 characters. */
const oneLine = (sql: string) => {
  const first = sql.split('\n')[0]!.trim();
  return first.length > 60 || sql.includes('\n') ? `${first.slice(0, 60)} …` : first;
};

function hasNoTransactionMarker(text: string): boolean {
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    if (!t.startsWith('--')) return false;
    if (t.toLowerCase() === NO_TRANSACTION_MARKER) return true;
  }
  return false;
}

/** Parses one file's text; problems are returned, not thrown, so every file is checked at once. */
export function parseMigration(file: string, text: string, cwd = process.cwd()): { migration?: Migration; problems: string[] } {
  const base = file.split('/').pop()!;
  const display = shown(file, cwd);
  const m = FILE_NAME.exec(base);
  if (!m) return { problems: [`${display}: name must be NNNN_name.sql (digits, underscore, lower-case letters, digits and _)`] };
  const normalized = text.replace(/\r\n/g, '\n');
  const statements = splitStatements(normalized);
  const transactional = !hasNoTransactionMarker(normalized);
  const problems: string[] = [];
  for (const s of statements) {
    if (s.sql.startsWith('\\')) problems.push(`${display}:${s.line}: psql meta-commands (${s.sql.split(/\s/)[0]}) are not supported`);
    if (transactional && isTransactionControl(s.sql)) {
      problems.push(`${display}:${s.line}: "${oneLine(s.sql.replace(/;$/, ''))}" — each migration already runs in its own transaction; remove it, or mark the file with "${NO_TRANSACTION_MARKER}"`);
    }
  }
  return {
    migration: { version: Number(m[1]), id: m[1]!, name: m[2]!, file, display, sha256: checksum(normalized), transactional, statements, empty: statements.length === 0 },
    problems,
  };
}

/**
 * Every migration in dir, in version order; bad names, duplicate versions and bad files are one
 * error listing them all. A missing folder is an error (a typo in --dir is not an empty set).
 */
export function readMigrations(dir: string, cwd = process.cwd()): Migration[] {
  if (!existsSync(dir)) {
    throw new UsageError(`migrations folder ${shown(dir, cwd)} does not exist`, ['twincigo migrate create <name> creates it with a first migration, or pass --dir <folder>']);
  }
  const problems: string[] = [];
  const found: Migration[] = [];
  for (const base of readdirSync(dir).sort()) {
    if (!base.endsWith('.sql')) continue;
    const file = join(dir, base);
    const { migration, problems: p } = parseMigration(file, readFileSync(file, 'utf8'), cwd);
    problems.push(...p);
    if (migration) found.push(migration);
  }
  const byVersion = new Map<number, Migration[]>();
  for (const m of found) byVersion.set(m.version, [...(byVersion.get(m.version) ?? []), m]);
  for (const [version, ms] of byVersion) {
    if (ms.length > 1) problems.push(`version ${version} is used by ${ms.length} files: ${ms.map((m) => m.display).join(', ')}`);
  }
  if (problems.length > 0) {
    throw new UsageError(`migrations in ${shown(dir, cwd)}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  - ${p}`).join('\n')}`, [
      'fix the files; nothing was applied',
    ]);
  }
  return found.sort((a, b) => a.version - b.version);
}

/** `migrate create NAME`: the next version, a file with a header; returns its path. */
export function createMigration(dir: string, name: string, noTransaction = false): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!slug) throw new UsageError(`migration name "${name}" has no letters or digits`, ['e.g. twincigo migrate create add_contacts_table']);
  // by name only: a file still being written (no SQL yet) must not block the next one
  const ids = existsSync(dir) ? readdirSync(dir).map((f) => FILE_NAME.exec(f)?.[1]).filter((x): x is string => x !== undefined) : [];
  const last = ids.sort((a, b) => Number(a) - Number(b)).at(-1);
  const version = (last ? Number(last) : 0) + 1;
  const width = Math.max(4, last?.length ?? 4);
  const file = join(dir, `${String(version).padStart(width, '0')}_${slug}.sql`);
  mkdirSync(dir, { recursive: true });
  const header = noTransaction
    ? `${NO_TRANSACTION_MARKER}\n-- Runs statement by statement outside a transaction: make every statement safe to re-run\n-- (IF NOT EXISTS), since a failure leaves the ones before it applied.\n`
    : `-- Runs in one transaction with the tracking record: all of it or nothing.\n`;
  writeFileSync(file, `-- ${slug}\n${header}\n`, { flag: 'wx' });
  return file;
}
