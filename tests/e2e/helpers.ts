/** Shared by the e2e tests: twincigo's own config loader and SSH pool, pointed at the lab. */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../dist/config/load.js';
import type { NodeConfig } from '../../dist/config/model.js';
import { SshPool } from '../../dist/ssh/pool.js';
import { LAB_ENV_FILE, REPO } from '../lab/config.ts';

export function labConfig() {
  return loadConfig({ configPath: `${REPO}twincigo.yml`, env: 'lab' });
}

export function labPool(): SshPool {
  return new SshPool(labConfig().dir, { acceptNewHostKeys: false, passphrase: async () => '' });
}

export function labEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(LAB_ENV_FILE, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

export type { NodeConfig };
