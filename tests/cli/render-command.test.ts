import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { completeEnvText, validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let inv: string;
const SECRET = 'pg-Ux3Nm8Kr2Tq6Wj9';
const env = (drop: string[] = []) => completeEnvText(SECRET, drop);

beforeAll(() => {
  tmp = tempDir();
  inv = writeInventory(tmp.dir, validInventory());
  mkdirSync(join(tmp.dir, 'env'));
  writeFileSync(join(tmp.dir, 'env', '.env.dev'), env(), { mode: 0o600 });
});
afterAll(() => tmp.cleanup());

describe('twincigo render', () => {
  it('--out writes each node\'s bundle, .env 0600, other files 0644', async () => {
    const out = join(tmp.dir, 'out');
    const res = await runCli(['render', '-c', inv, '--env', 'dev', '--out', out]);
    expect(res.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['ash-1', 'ash-2', 'hil-1']);
    expect(statSync(join(out, 'hil-1', '.env')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'hil-1', 'config', 'patroni', 'patroni.yml')).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(out, 'hil-1', '.env'), 'utf8')).toContain(`POSTGRES_PASSWORD=${SECRET}`);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith('.twincigo-render-'))).toEqual([]);
  });

  it('without --out prints the files, secrets redacted', async () => {
    const res = await runCli(['render', '-c', inv, '--env', 'dev', '--nodes', 'ash-1']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/### ash-1 — compose: compose\/etcd\.yml compose\/patroni\.yml compose\/haproxy\.yml/);
    expect(res.stdout).toContain('POSTGRES_PASSWORD=[REDACTED]');
    expect(res.stdout).not.toContain(SECRET);
  });

  it('a missing secret: exit 2 naming key, role and nodes; nothing written to the output dir', async () => {
    writeFileSync(join(tmp.dir, 'env', '.env.dev'), env(['REWIND_PASSWORD']), { mode: 0o600 });
    const out = join(tmp.dir, 'out-bad');
    const res = await runCli(['render', '-c', inv, '--env', 'dev', '--out', out]);
    writeFileSync(join(tmp.dir, 'env', '.env.dev'), env(), { mode: 0o600 });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('REWIND_PASSWORD is missing — password of the pg_rewind user (needed by patroni on hil-1, ash-1, ash-2)');
    expect(existsSync(out)).toBe(false);
  });

  it('--out inside a git work tree must be ignored by git (the files hold secrets); a file in the way is one line, exit 2', async () => {
    const repo = join(tmp.dir, 'repo');
    mkdirSync(repo);
    execFileSync('git', ['init', '-q', repo]);
    const tracked = await runCli(['render', '-c', inv, '--env', 'dev', '--out', join(repo, 'build')]);
    expect(tracked.code).toBe(2);
    expect(tracked.stderr).toMatch(/--out .*repo\/build is inside the git work tree .*repo and not ignored: the rendered files hold the environment's secrets/);
    expect(tracked.stderr).toContain('hint: add it to');
    expect(existsSync(join(repo, 'build'))).toBe(false);
    writeFileSync(join(repo, '.gitignore'), '/build/\n');
    const ignored = await runCli(['render', '-c', inv, '--env', 'dev', '--out', join(repo, 'build')]);
    expect(ignored.code, ignored.stderr).toBe(0);
    writeFileSync(join(tmp.dir, 'a-file'), 'x');
    const blocked = await runCli(['render', '-c', inv, '--env', 'dev', '--out', join(tmp.dir, 'a-file', 'sub')]);
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toMatch(/^error: --out .*a-file\/sub: a file is in the way \(--out and the folders above it must be folders\) — nothing was written\n$/);
  });
});
