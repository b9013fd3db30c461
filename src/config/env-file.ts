import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';
import { parse } from 'dotenv';
import { keysFor, isSecretKey } from './env-keys.js';
import type { EnvironmentConfig, NodeConfig } from './model.js';
import type { Role } from './roles.js';

export interface EnvValues {
  file: string;
  exists: boolean;
  /** Shared non-secret settings (env/shared.env beside the env file), overridden by the env file. */
  values: Record<string, string>;
  sharedFile?: string;
}

/** The settings every environment shares; committed, so it may hold no secret. */
export const SHARED_ENV = 'shared.env';

export function readEnvFile(file: string): EnvValues {
  const sharedFile = join(dirname(file), SHARED_ENV);
  const shared = existsSync(sharedFile) ? parse(readFileSync(sharedFile, 'utf8')) : {};
  const leaked = Object.entries(shared).filter(([k, v]) => isSecretKey(k) && v !== '').map(([k]) => k);
  if (leaked.length > 0) {
    throw new ConfigError(sharedFile, leaked.map((k) => `${k}: a secret in the shared (committed) settings — move it to the per-environment env file`));
  }
  const base = existsSync(sharedFile) ? { sharedFile } : {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file, exists: false, values: { ...shared }, ...base };
    throw err;
  }
  return { file, exists: true, values: { ...shared, ...parse(text) }, ...base };
}

/** Values that must never be printed. */
export function secretValues(env: EnvValues): string[] {
  return Object.entries(env.values)
    .filter(([k, v]) => isSecretKey(k) && v.length > 0)
    .map(([, v]) => v);
}

export interface MissingKey {
  key: string;
  about: string;
  roles: Role[];
  nodes: string[];
}

/** Every key some node's roles need that is absent or empty, with who needs it. */
export function missingKeys(env: EnvironmentConfig, values: EnvValues, nodes: NodeConfig[] = env.nodes): MissingKey[] {
  const missing = new Map<string, MissingKey>();
  for (const node of nodes) {
    for (const [key, { spec, roles }] of keysFor(node.roles, env.profile)) {
      if ((values.values[key] ?? '') !== '') continue;
      const entry = missing.get(key) ?? { key, about: spec.about, roles: [], nodes: [] };
      for (const r of roles) if (!entry.roles.includes(r)) entry.roles.push(r);
      entry.nodes.push(node.name);
      missing.set(key, entry);
    }
  }
  return [...missing.values()];
}

/** The env values one node's roles need; null where the env file lacks the key. */
export function valuesForNode(env: EnvironmentConfig, node: NodeConfig, values: EnvValues): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const key of keysFor(node.roles, env.profile).keys()) {
    const v = values.values[key];
    out[key] = v === undefined || v === '' ? null : v;
  }
  return out;
}
