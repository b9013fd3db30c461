import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { completeEnvText, unreachableInventory, validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The parts of deploy, releases and rollback that must not touch a node: flags, the prod guard,
 * unreachable nodes. Every node points at 127.0.0.x port 1. The lab e2e test covers the rest.
 */
let tmp: ReturnType<typeof tempDir>;
let inv: string;
const SECRET = 'deploy-Hs4Yb9Lc2Xn7Qe';
const envText = completeEnvText(SECRET);

beforeAll(() => {
  tmp = tempDir();
  const doc = unreachableInventory(tmp.dir);
  inv = writeInventory(tmp.dir, doc);
  mkdirSync(join(tmp.dir, 'env'));
  writeFileSync(join(tmp.dir, 'env', '.env.dev'), envText, { mode: 0o600 });
});
afterAll(() => tmp.cleanup());

describe('twincigo deploy / releases / rollback without touching a node', () => {
  it('--roles takes known roles only (exit 2)', async () => {
    const res = await runCli(['deploy', '-c', inv, '--env', 'dev', '--roles', 'backend,nope']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--roles: unknown role nope\n {2}hint: roles: etcd, patroni, haproxy/);
  });

  it('prod without a TTY and without --yes: exit 2 naming --yes, before any connection', async () => {
    const res = await runCli(['deploy', '-c', inv, '--env', 'prod']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('deploy changes prod: confirmation needed, pass --yes');
    expect(res.stderr).not.toMatch(/127\.0\.0|ECONNREFUSED/);
  });

  it('unreachable nodes: the dry run fails on each node with the SSH reason, exit 1, nothing printed of the secrets', async () => {
    const res = await runCli(['deploy', '-c', inv, '--env', 'dev', '--dry-run'], { timeoutMs: 60_000 });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Prepare — failed on 3 of 3 nodes/);
    expect(res.stderr).toMatch(/hil-1.*127\.0\.0\.1:1/);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
    const rel = await runCli(['releases', '-c', inv, '--env', 'dev'], { timeoutMs: 60_000 });
    expect(rel.code).toBe(1);
    const rb = await runCli(['rollback', '-c', inv, '--env', 'dev', '--yes'], { timeoutMs: 60_000 });
    expect(rb.code).toBe(1);
  });
});
