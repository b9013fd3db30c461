/** Shared by the e2e tests: twincigo's own config loader and SSH pool, pointed at the lab. */
import { readEnvFile } from '../../dist/config/env-file.js';
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

/** The lab's env values, read as twincigo reads them. */
export function labEnv(): Record<string, string> {
  return readEnvFile(LAB_ENV_FILE).values;
}

export type { NodeConfig };
