import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { completeEnvText, validInventory, writeEnvFile, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `config check` is the gate: everything render, bootstrap and deploy would refuse, it refuses
 * first — bad addresses, malformed env files, placeholder and weak secrets, loose permissions,
 * over-committed nodes — all at once, exit 2, each with its file:line or path. Built CLI, no node.
 */
let tmp: ReturnType<typeof tempDir>;
let inv: string;
let envFile: string;
const STRONG = 'pg-Rk8Wq3Zx7Mv2Tp5Ld';

beforeAll(() => {
  tmp = tempDir();
  inv = writeInventory(tmp.dir, validInventory());
  mkdirSync(join(tmp.dir, 'env'));
  envFile = join(tmp.dir, 'env', '.env.dev');
});
afterAll(() => tmp.cleanup());

const check = (...extra: string[]) => runCli(['config', 'check', '-c', inv, '--env', 'dev', ...extra]);

describe('config check is the gate', () => {
  it('a complete, strong env file passes; the same checks then pass render --dry-run paths', async () => {
    writeEnvFile(envFile, completeEnvText(STRONG));
    const res = await check();
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^ok: .* is valid \(dev \+ env\)/);
  });

  it('placeholder and weak secrets: exit 2 from config check, and render/bootstrap --dry-run refuse them too', async () => {
    for (const weak of ['changeme', 'hunter2']) {
      writeEnvFile(envFile, completeEnvText(weak));
      const res = await check();
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(weak === 'changeme' ? /placeholder: POSTGRES_PASSWORD still has a placeholder value/ : /weak: POSTGRES_PASSWORD is only 7 characters \(at least 16\)/);
      for (const cmd of [['render'], ['bootstrap', '--dry-run']]) {
        const r = await runCli([...cmd, '-c', inv, '--env', 'dev']);
        expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toContain('POSTGRES_PASSWORD');
        expect(r.stdout).not.toContain('compose/');
      }
    }
  });

  it('an over-committed node is reported with the value problems, in one run', async () => {
    const doc = validInventory();
    doc.environments.dev.nodes[2].roles.push('supabase', 'backend', 'redis');
    const crowded = writeInventory(tmp.dir, doc, 'crowded.yml');
    writeEnvFile(envFile, completeEnvText('hunter2'));
    const res = await runCli(['config', 'check', '-c', crowded, '--env', 'dev']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/POSTGRES_PASSWORD is only 7 characters/);
    expect(res.stderr).toMatch(/ash-2: services need [\d.]+ CPUs, the dev node has 2/);
  });

  it('a host that is not an address never reaches a script: exit 2 naming the path', async () => {
    const doc = validInventory();
    doc.environments.dev.nodes[0].host = '127.0.0.3; touch /tmp/pwned';
    const bad = writeInventory(tmp.dir, doc, 'pwned.yml');
    writeEnvFile(envFile, completeEnvText(STRONG));
    for (const cmd of [['config', 'check'], ['bootstrap', '--dry-run'], ['render']]) {
      const res = await runCli([...cmd, '-c', bad, '--env', 'dev']);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('environments.dev.nodes[0].host: must be an IP address or a host name');
      expect(res.stdout).not.toContain('touch /tmp/pwned');
    }
  });
});

describe('env files are read strictly', () => {
  it('duplicate keys, unknown keys (with "did you mean") and malformed lines: exit 2 with file:line', async () => {
    const text = `${completeEnvText(STRONG)}\nREDIS PASSWORD = x\nPOSTGRES_PASSWORD=${STRONG}\nPOSTGRES_PASSWROD=x\nJUNK\nSITE_URL="https://a\n`;
    writeEnvFile(envFile, text);
    const lines = text.split('\n');
    const at = (needle: string) => lines.findIndex((l) => l.startsWith(needle)) + 1;
    const res = await check();
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`${envFile}:${at('REDIS PASSWORD')}: malformed line (spaces in or around the key "REDIS PASSWORD"); expected KEY=value`);
    expect(res.stderr).toContain(`${envFile}:${lines.lastIndexOf(`POSTGRES_PASSWORD=${STRONG}`) + 1}: POSTGRES_PASSWORD is set again (first at line 1); keep one`);
    expect(res.stderr).toContain(`${envFile}:${at('POSTGRES_PASSWROD')}: unknown key POSTGRES_PASSWROD — did you mean POSTGRES_PASSWORD?`);
    expect(res.stderr).toContain(`${envFile}:${at('JUNK')}: malformed line (no "=" in it); expected KEY=value`);
    expect(res.stderr).toContain(`${envFile}:${at('SITE_URL="')}: SITE_URL: unterminated double quote (values are one line)`);
    expect(res.stderr).not.toContain(STRONG);
    // every command refuses such a file, not only the checks
    const render = await runCli(['render', '-c', inv, '--env', 'dev']);
    expect(render.code).toBe(2);
    expect(render.stderr).toContain('unknown key POSTGRES_PASSWROD');
  });

  it('a value with a single quote cannot reach the nodes\' .env files (they single-quote values)', async () => {
    writeEnvFile(envFile, `${completeEnvText(STRONG)}\nSITE_URL="https://it's.example"\n`.replace(/^SITE_URL=https:\/\/app\n/m, ''));
    const res = await check();
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/\.env\.dev:\d+: SITE_URL: a single quote or a control character cannot be carried into the nodes' \.env files/);
  });

  it('a key twincigo renders from the inventory (NODE_IP) may not be set in the env file', async () => {
    writeEnvFile(envFile, `${completeEnvText(STRONG)}\nNODE_IP=1.2.3.4\n`);
    const res = await check();
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/:\d+: NODE_IP is set by twincigo from the inventory; remove it here/);
  });

  it('an env file others can read: a warning in dev, an error in prod (as OpenSSH refuses loose keys)', async () => {
    writeEnvFile(envFile, completeEnvText(STRONG));
    chmodSync(envFile, 0o644);
    const dev = await check();
    expect(dev.code).toBe(0);
    expect(dev.stderr).toContain(`warning: ${envFile} is readable by others (mode 0644); chmod 600 ${envFile}`);
    const doc = validInventory();
    doc.environments.prod = { ...structuredClone(doc.environments.dev), profile: 'prod', envFile: 'env/.env.dev' };
    const prodInv = writeInventory(tmp.dir, doc, 'prod.yml');
    const prod = await runCli(['config', '--json', '-c', prodInv, '--env', 'prod']);
    expect(prod.code).toBe(2);
    expect(prod.stderr).toContain(`${envFile} is readable by others (mode 0644); chmod 600 ${envFile}`);
    chmodSync(envFile, 0o600);
  });
});

describe('redaction replaces whole values, and only where they stand as values', () => {
  it('a secret that is a common word garbles nothing and gives nothing away (and is refused as weak)', async () => {
    writeEnvFile(envFile, completeEnvText('patroni'));
    const res = await runCli(['config', '-c', inv, '--env', 'dev']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('roles    etcd, patroni, haproxy');
    expect(res.stdout).not.toContain('[REDACTED], haproxy');
    const chk = await check();
    expect(chk.stderr).toContain('weak: POSTGRES_PASSWORD is only 7 characters (at least 16)');
    expect(chk.stderr).not.toMatch(/\[REDACTED\]er than/);
    const envText = readFileSync(envFile, 'utf8');
    expect(envText).toContain('POSTGRES_PASSWORD=patroni');
    writeFileSync(envFile, completeEnvText(STRONG), { mode: 0o600 });
  });
});
