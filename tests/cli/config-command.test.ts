import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../helpers/cli.js';
import { validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

/** The built CLI, run as an operator or CI would run it (no TTY). */
let tmp: ReturnType<typeof tempDir>;
let inv: string;
const SECRET = 'hunter2-Rk8Wq3Zx7Mv2Tp5';

beforeAll(() => {
  tmp = tempDir();
  inv = writeInventory(tmp.dir, validInventory());
  mkdirSync(join(tmp.dir, 'env'));
  writeFileSync(
    join(tmp.dir, 'env', '.env.dev'),
    [
      `POSTGRES_PASSWORD=${SECRET}`,
      'REPLICATION_PASSWORD=repl-secret-1',
      'REWIND_PASSWORD=rewind-secret-1',
      'PATRONI_RESTAPI_PASSWORD=rest-secret-1',
      'PGSODIUM_ROOT_KEY=0123456789abcdef',
      'HAPROXY_STATS_PASSWORD=stats-secret-1',
      'DASHBOARD_USERNAME=supabase',
    ].join('\n'),
    { mode: 0o600 },
  );
});
afterAll(() => tmp.cleanup());

describe('twincigo config', () => {
  it('prints the resolved config per node with secrets redacted, also with --verbose', async () => {
    const res = await runCli(['config', '-c', inv, '--env', 'dev', '--verbose']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/hil-1 \(initial leader\)/);
    expect(res.stdout).toMatch(/POSTGRES_PASSWORD=\[REDACTED\]/);
    expect(res.stdout).toMatch(/DASHBOARD_USERNAME=supabase/);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
    expect(res.stdout).toMatch(/missing in .*: .*JWT_SECRET/);
  });

  it('--json: a machine-readable result on stdout, secrets redacted', async () => {
    const res = await runCli(['config', '-c', inv, '--env', 'dev', '--json']);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.environment).toBe('dev');
    expect(out.nodes.map((n: { name: string }) => n.name)).toEqual(['hil-1', 'ash-1', 'ash-2']);
    expect(out.nodes[0].env.POSTGRES_PASSWORD).toBe('[REDACTED]');
    expect(out.missingEnvKeys).toContain('JWT_SECRET');
    expect(res.stdout).not.toContain(SECRET);
  });

  it('--nodes filters; a filter that matches nothing is exit 2 naming the nodes', async () => {
    const ok = await runCli(['config', '-c', inv, '--env', 'dev', '--json', '--nodes', 'ash-*']);
    expect(JSON.parse(ok.stdout).nodes.map((n: { name: string }) => n.name)).toEqual(['ash-1', 'ash-2']);
    const bad = await runCli(['config', '-c', inv, '--env', 'dev', '--nodes', 'ash-9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--nodes: "ash-9" matches no node of environment dev/);
    expect(bad.stderr).toMatch(/hint: nodes: hil-1, ash-1, ash-2/);
  });

  it('without --env and without a TTY: exit 2 naming the flag (never a guess)', async () => {
    const res = await runCli(['config', '-c', inv], { env: { TWINCIGO_ENV: undefined } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/which environment\?: pass --env <dev>/);
  });

  it('errors with --json are JSON on stdout too', async () => {
    const res = await runCli(['config', '-c', inv, '--env', 'staging', '--json']);
    expect(res.code).toBe(2);
    const out = JSON.parse(res.stdout);
    expect(out).toMatchObject({ ok: false, exitCode: 2 });
    expect(out.error).toMatch(/unknown environment "staging"/);
  });

  it('an unknown command or option is a usage error (exit 2)', async () => {
    expect((await runCli(['deploy-everything'])).code).toBe(2);
    expect((await runCli(['config', '--frobnicate'])).code).toBe(2);
    expect((await runCli(['--help'])).code).toBe(0);
  });
});

describe('twincigo config check', () => {
  it('exit 0 on a valid inventory; lists every missing env key with the role and nodes that need it', async () => {
    const res = await runCli(['config', 'check', '-c', inv, '--env', 'dev']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/JWT_SECRET is missing — .* \(needed by supabase(, backend)? on hil-1/);
    expect(res.stderr).toMatch(/REDIS_PASSWORD is missing/);
    expect(res.stderr).not.toContain(SECRET);
  });

  it('a broken inventory: exit 2, path-precise problems all at once, nothing else attempted', async () => {
    const doc = validInventory();
    doc.environments.dev.nodes[1].host = 42;
    doc.environments.dev.nodes[2].rolez = ['etcd'];
    doc.environments.dev.nodes[2].name = 'hil-1';
    const bad = writeInventory(tmp.dir, doc, 'bad.yml');
    const res = await runCli(['config', 'check', '-c', bad]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('environments.dev.nodes[1].host: must be string');
    expect(res.stderr).toContain('environments.dev.nodes[2].rolez: unknown key');
    expect(res.stderr).toContain('environments.dev.nodes[2].name: duplicate node name "hil-1" (also nodes[0])');
  });

  it('the shipped inventory: dev is valid, prod says to fill in its hosts (placeholders, not garbage)', async () => {
    // the shipped file alone, copied: a working tree's lab inventories (twincigo.lab*.yml beside it) are not shipped
    const shipped = join(tmp.dir, 'shipped');
    mkdirSync(shipped);
    copyFileSync(`${REPO}twincigo.yml`, join(shipped, 'twincigo.yml'));
    const res = await runCli(['config', 'check', '-c', join(shipped, 'twincigo.yml')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/configuration: 1 problem\n  - prod: fill in the prod hosts: environments\.prod\.nodes\[0\]\.host, environments\.prod\.nodes\[1\]\.host, environments\.prod\.nodes\[2\]\.host still hold a placeholder\n/);
    const render = await runCli(['render', '--env', 'prod', '-c', join(shipped, 'twincigo.yml')]);
    expect(render.code).toBe(2);
    expect(render.stderr).toContain('fill in the prod hosts');
  });
});

describe('an old Node.js', () => {
  const old = ['/usr/bin/node', '/bin/node'].find((p) => existsSync(p));
  const version = old ? spawnSync(old, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
  // the machines this runs on have Node 20 as their own node; elsewhere this shows as skipped
  it.skipIf(!old || !/^v(1\d|2[01])\./.test(version))(`${version || 'none found'}: gets a clear message and exit 2, not a crash`, () => {
    const res = spawnSync(old!, [`${REPO}bin/twincigo`, '--help'], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(new RegExp(`^error: twincigo needs Node.js 22.12 or newer; this is ${version.replace(/\./g, '\\.')}`));
  });
});
