import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSupabaseKey } from '../../src/secrets/jwt.js';
import { REPO, runCli } from '../helpers/cli.js';
import { validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let inv: string;
let envFile: string;
const read = () => parse(readFileSync(envFile, 'utf8'));

beforeAll(() => {
  tmp = tempDir();
  inv = writeInventory(tmp.dir, validInventory());
  mkdirSync(join(tmp.dir, 'env'));
  writeFileSync(join(tmp.dir, 'env', '.env.dev.example'), readFileSync(`${REPO}env/.env.dev.example`));
  envFile = join(tmp.dir, 'env', '.env.dev');
});
afterAll(() => tmp.cleanup());

describe('twincigo secrets init', () => {
  it('generates every secret the roles need into a 0600 file, from the example; keys verify; nothing secret printed', async () => {
    const res = await runCli(['secrets', 'init', '-c', inv, '--env', 'dev']);
    expect(res.code).toBe(0);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const v = read();
    for (const k of ['POSTGRES_PASSWORD', 'REPLICATION_PASSWORD', 'REWIND_PASSWORD', 'PATRONI_RESTAPI_PASSWORD', 'HAPROXY_STATS_PASSWORD', 'REDIS_PASSWORD', 'DASHBOARD_PASSWORD', 'GRAFANA_ADMIN_PASSWORD', 'BACKEND_DB_PASSWORD']) {
      expect(v[k], k).toMatch(/^[A-Za-z0-9_-]{32}$/);
    }
    expect(v.JWT_SECRET!.length).toBeGreaterThanOrEqual(32);
    expect(v.PGSODIUM_ROOT_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(checkSupabaseKey(v.ANON_KEY!, v.JWT_SECRET!, 'anon')).toBeUndefined();
    expect(checkSupabaseKey(v.SERVICE_ROLE_KEY!, v.JWT_SECRET!, 'service_role')).toBeUndefined();
    expect(v.DASHBOARD_USERNAME).toBe('supabase'); // settings of the example kept
    expect(readFileSync(envFile, 'utf8')).toContain('# --- patroni / postgres'); // its comments too
    for (const secret of [v.POSTGRES_PASSWORD!, v.JWT_SECRET!, v.ANON_KEY!]) expect(res.stdout + res.stderr).not.toContain(secret);
    expect(res.stdout).toMatch(/generated .*POSTGRES_PASSWORD.*ANON_KEY/);
    expect(res.stderr).toMatch(/still to fill in by hand: BACKEND_IMAGE/);
  });

  it('a second run changes nothing', async () => {
    const before = readFileSync(envFile, 'utf8');
    const res = await runCli(['secrets', 'init', '-c', inv, '--env', 'dev']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/every secret already has a value .*nothing changed/);
    expect(readFileSync(envFile, 'utf8')).toBe(before);
  });

  it('--rotate needs a confirmation (--yes without a TTY); rotating JWT_SECRET re-signs the API keys only', async () => {
    const before = read();
    const refused = await runCli(['secrets', 'init', '-c', inv, '--env', 'dev', '--rotate', 'JWT_SECRET']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/pass --yes/);
    expect(read()).toEqual(before);
    const res = await runCli(['secrets', 'init', '-c', inv, '--env', 'dev', '--rotate', 'JWT_SECRET', '--yes']);
    expect(res.code).toBe(0);
    const after = read();
    expect(after.JWT_SECRET).not.toBe(before.JWT_SECRET);
    expect(after.ANON_KEY).not.toBe(before.ANON_KEY);
    expect(checkSupabaseKey(after.ANON_KEY!, after.JWT_SECRET!, 'anon')).toBeUndefined();
    expect(after.POSTGRES_PASSWORD).toBe(before.POSTGRES_PASSWORD);
    const unknown = await runCli(['secrets', 'init', '-c', inv, '--env', 'dev', '--rotate', 'NOPE', '--yes']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--rotate: NOPE is not a secret of environment dev/);
  });
});

describe('twincigo env check', () => {
  it('passes on generated values once the settings (BACKEND_IMAGE) are filled in', async () => {
    const missing = await runCli(['env', 'check', '-c', inv, '--env', 'dev']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing: BACKEND_IMAGE is missing — FastAPI backend image \(from the app team\), pinned to a version \(needed by backend on ash-1\)/);
    writeFileSync(envFile, readFileSync(envFile, 'utf8').replace(/^BACKEND_IMAGE=.*$/m, 'BACKEND_IMAGE=ghcr.io/twincigo/backend:1.4.2'), { mode: 0o600 });
    const res = await runCli(['env', 'check', '-c', inv, '--env', 'dev']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });

  it('lists missing, placeholder, weak, invalid and unpinned values at once: exit 2, values never printed', async () => {
    const good = readFileSync(envFile, 'utf8');
    const v = read();
    const bad = good
      .replace(/^REWIND_PASSWORD=.*$/m, 'REWIND_PASSWORD=')
      .replace(/^REDIS_PASSWORD=.*$/m, 'REDIS_PASSWORD=changeme')
      .replace(/^GRAFANA_ADMIN_PASSWORD=.*$/m, 'GRAFANA_ADMIN_PASSWORD=short-pw-1')
      .replace(/^PGSODIUM_ROOT_KEY=.*$/m, 'PGSODIUM_ROOT_KEY=not-hex-at-all-not-hex-at-all')
      .replace(/^ANON_KEY=.*$/m, `ANON_KEY=${v.SERVICE_ROLE_KEY}`)
      .replace(/^BACKEND_IMAGE=.*$/m, 'BACKEND_IMAGE=ghcr.io/twincigo/backend:latest');
    writeFileSync(envFile, bad, { mode: 0o600 });
    const res = await runCli(['env', 'check', '-c', inv, '--env', 'dev']);
    writeFileSync(envFile, good, { mode: 0o600 });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('missing: REWIND_PASSWORD is missing');
    expect(res.stderr).toContain('placeholder: REDIS_PASSWORD still has a placeholder value');
    expect(res.stderr).toContain('weak: GRAFANA_ADMIN_PASSWORD is only 10 characters (at least 16)');
    expect(res.stderr).toContain('weak: PGSODIUM_ROOT_KEY must be 64 hex characters');
    expect(res.stderr).toContain('invalid: ANON_KEY has role "service_role", expected "anon"');
    expect(res.stderr).toContain('unpinned: BACKEND_IMAGE=ghcr.io/twincigo/backend:latest is not pinned to a version');
    expect(res.stderr).not.toContain(v.SERVICE_ROLE_KEY!);
  });

  it('an ANON_KEY signed with another secret is reported as JWSInvalidSignature', async () => {
    const good = readFileSync(envFile, 'utf8');
    const { signSupabaseKey } = await import('../../src/secrets/jwt.js');
    writeFileSync(envFile, good.replace(/^ANON_KEY=.*$/m, `ANON_KEY=${signSupabaseKey('x'.repeat(40), 'anon')}`), { mode: 0o600 });
    const res = await runCli(['env', 'check', '-c', inv, '--env', 'dev']);
    writeFileSync(envFile, good, { mode: 0o600 });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/invalid: ANON_KEY is not signed with JWT_SECRET \(JWSInvalidSignature\); regenerate it: twincigo secrets init --env dev --rotate ANON_KEY/);
  });

  it('a secret in the shared (committed) settings is refused', async () => {
    writeFileSync(join(tmp.dir, 'env', 'shared.env'), 'DASHBOARD_USERNAME=supabase\nREDIS_PASSWORD=oops-committed\n');
    const res = await runCli(['env', 'check', '-c', inv, '--env', 'dev']);
    rmSync(join(tmp.dir, 'env', 'shared.env'));
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/shared\.env: 1 problem\n  - REDIS_PASSWORD: a secret in the shared \(committed\) settings — move it to the per-environment env file/);
  });
});
