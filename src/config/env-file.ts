import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';
import { KNOWN_KEYS, RENDERED_KEYS, keysFor, isSecretKey } from './env-keys.js';
import { didYouMean, parseEnvText } from './env-parse.js';
import type { EnvironmentConfig, NodeConfig } from './model.js';
import type { Role } from './roles.js';

export interface EnvValues {
  file: string;
  exists: boolean;
  /** Shared non-secret settings (env/shared.env beside the env file), overridden by the env file. */
  values: Record<string, string>;
  sharedFile?: string;
  /** Malformed lines, duplicate or unknown keys: each names file:line. Commands refuse them. */
  problems: string[];
  /** The env file's mode when group or others may read it (0600 is expected). */
  looseMode?: number;
}

/** The settings every environment shares; committed, so it may hold no secret. */
export const SHARED_ENV = 'shared.env';

export function readEnvFile(file: string): EnvValues {
  const sharedFile = join(dirname(file), SHARED_ENV);
  const problems: string[] = [];
  const shared = existsSync(sharedFile) ? strictRead(sharedFile, problems) : {};
  const leaked = Object.entries(shared).filter(([k, v]) => isSecretKey(k) && v !== '').map(([k]) => k);
  if (leaked.length > 0) {
    throw new ConfigError(sharedFile, leaked.map((k) => `${k}: a secret in the shared (committed) settings — move it to the per-environment env file`));
  }
  const base = existsSync(sharedFile) ? { sharedFile } : {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file, exists: false, values: { ...shared }, problems, ...base };
    throw new ConfigError(file, [`cannot read: ${(err as Error).message}`]);
  }
  const own = strictText(text, file, problems);
  const mode = statSync(file).mode & 0o777;
  return { file, exists: true, values: { ...shared, ...own }, problems, ...base, ...(mode & 0o077 ? { looseMode: mode } : {}) };
}

function strictRead(file: string, problems: string[]): Record<string, string> {
  return strictText(readFileSync(file, 'utf8'), file, problems);
}

/** Parses strictly and adds every problem: malformed lines, keys set twice, unknown and inventory-owned keys. */
function strictText(text: string, file: string, problems: string[]): Record<string, string> {
  const parsed = parseEnvText(text, file);
  problems.push(...parsed.problems);
  for (const [key, line] of Object.entries(parsed.lines)) {
    // the nodes' .env files single-quote values (compose reads them literally, with no escape)
    if (/['\u0000-\u001f\u007f]/.test(parsed.values[key]!)) {
      problems.push(`${file}:${line}: ${key}: a single quote or a control character cannot be carried into the nodes' .env files — choose a value without it`);
    }
    if ((RENDERED_KEYS as readonly string[]).includes(key)) {
      problems.push(`${file}:${line}: ${key} is set by twincigo from the inventory; remove it here`);
    } else if (!KNOWN_KEYS.has(key)) {
      const near = didYouMean(key, KNOWN_KEYS);
      problems.push(`${file}:${line}: unknown key ${key}${near ? ` — did you mean ${near}?` : ''}`);
    }
  }
  return parsed.values;
}

/** The permission rule (as OpenSSH's for keys): a secret file others can read is an error in prod, a warning elsewhere. */
export function looseModeMessage(file: string, mode: number): string {
  return `${file} is readable by ${mode & 0o007 ? 'others' : 'its group'} (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 ${file}`;
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
