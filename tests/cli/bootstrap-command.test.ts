import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { completeEnvText, unreachableInventory, validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The parts of bootstrap that must not touch a node. Every node points at 127.0.0.1 port 1, where
 * nothing listens: a command that tried to connect would fail (and says so), so a passing
 * dry-run or guard proves no connection was attempted.
 */
let tmp: ReturnType<typeof tempDir>;
let inv: string;
const SECRET = 'pg-Ux3Nm8Kr2Tq6Wj9';
const envText = completeEnvText(SECRET);

beforeAll(() => {
  tmp = tempDir();
  const doc = unreachableInventory(tmp.dir);
  for (const env of [doc.environments.dev, doc.environments.prod]) env.nodes.forEach((n: { privateAddress?: string }, i: number) => (n.privateAddress = `10.0.0.${i + 1}`));
  inv = writeInventory(tmp.dir, doc);
  mkdirSync(join(tmp.dir, 'env'));
  writeFileSync(join(tmp.dir, 'env', '.env.dev'), envText, { mode: 0o600 });
});
afterAll(() => tmp.cleanup());

describe('twincigo bootstrap without touching a node', () => {
  it('--dry-run prints phases × nodes, the firewall rules and the files, secrets never', async () => {
    const res = await runCli(['bootstrap', '-c', inv, '--env', 'dev', '--dry-run']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('bootstrap dev (dry run: no node is contacted, nothing changes)');
    expect(res.stdout).toMatch(/1\. Preflight\n {3}hil-1: SSH, sudo, OS/);
    expect(res.stdout).toMatch(/6\. Patroni: first leader \(hil-1\)\n {3}hil-1: compose up patroni → a leader is elected/);
    expect(res.stdout).toMatch(/ash-1: Redis: compose up --wait redis → backend: compose up --wait backend/);
    expect(res.stdout).toContain('hil-1: every port from 10.0.0.1, 10.0.0.2, 10.0.0.3, loopback and Docker bridges; from anyone else only tcp 1,22,8000'); // the inventory's SSH port (1: nothing listens) and 22
    expect(res.stdout).toContain('ash-1: every port from 10.0.0.1, 10.0.0.2, 10.0.0.3, loopback and Docker bridges; from anyone else only tcp 1,22,8080');
    expect(res.stdout).toMatch(/0600 +\d+ {2}\.env {2}\(secrets\)/);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
  });

  it('--dry-run --no-firewall leaves the firewall out of the plan', async () => {
    const res = await runCli(['bootstrap', '-c', inv, '--env', 'dev', '--dry-run', '--no-firewall']);
    expect(res.code).toBe(0);
    expect(res.stdout).not.toContain('. Firewall\n');
    expect(res.stdout).toContain('Firewall: skipped (--no-firewall)');
  });

  it('prod without a TTY and without --yes: exit 2 naming --yes, before any connection', async () => {
    const res = await runCli(['bootstrap', '-c', inv, '--env', 'prod']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('bootstrap changes every node of prod: confirmation needed, pass --yes');
  });

  it('--nodes is refused: bootstrap sets up the whole environment', async () => {
    const res = await runCli(['bootstrap', '-c', inv, '--env', 'dev', '--nodes', 'ash-1', '--dry-run']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('bootstrap sets up the whole environment: drop --nodes');
  });

  it('unreachable nodes: preflight fails, exit 1, nothing changed', async () => {
    const res = await runCli(['bootstrap', '-c', inv, '--env', 'dev', '--yes'], { timeoutMs: 30_000 });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/error: Preflight failed on 3 of 3 nodes — hil-1: [^;]*refused[^;]*; ash-1: /);
    expect(res.stderr).not.toContain('hil-1: hil-1:');
  });
});
