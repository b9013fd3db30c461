import { readFileSync } from 'node:fs';
import { isSecretKey, keysFor } from '../config/env-keys.js';
import type { EnvValues } from '../config/env-file.js';
import type { EnvironmentConfig } from '../config/model.js';
import { UsageError } from '../errors.js';
import { updateEnvFile } from './env-file-edit.js';
import { generate } from './generate.js';
import { checkSupabaseKey, signSupabaseKey } from './jwt.js';

export interface InitResult {
  file: string;
  generated: string[];
  kept: string[];
  /** New secret values, to register with the redactor before anything is printed. */
  newValues: string[];
}

/**
 * Generates every secret the environment's roles need that has no value yet; an existing value is
 * only replaced when its key is named in `rotate`. ANON_KEY and SERVICE_ROLE_KEY are signed with
 * JWT_SECRET (and re-signed when JWT_SECRET is rotated), then verified by decoding them.
 */
export function initSecrets(env: EnvironmentConfig, current: EnvValues, rotate: string[], template?: string): InitResult {
  const specs = new Map(env.nodes.flatMap((n) => [...keysFor(n.roles, env.profile)]));
  const needed = new Set(specs.keys());
  // a provider's credentials are filled in by hand, never generated
  const secrets = [...needed].filter((k) => isSecretKey(k) && !specs.get(k)?.spec.issued);
  const unknown = rotate.filter((k) => !secrets.includes(k));
  if (unknown.length > 0) throw new UsageError(`--rotate: ${unknown.join(', ')} is not a secret of environment ${env.name}`, [`secrets: ${secrets.join(', ')}`]);
  const values = { ...current.values };
  const updates = new Map<string, string>();
  const generated: string[] = [];
  const kept: string[] = [];
  for (const key of secrets.filter((k) => k !== 'ANON_KEY' && k !== 'SERVICE_ROLE_KEY')) {
    if (values[key] && !rotate.includes(key)) {
      kept.push(key);
      continue;
    }
    values[key] = generate(key);
    updates.set(key, values[key]!);
    generated.push(key);
  }
  const jwtRotated = updates.has('JWT_SECRET');
  for (const [key, role] of [['ANON_KEY', 'anon'], ['SERVICE_ROLE_KEY', 'service_role']] as const) {
    if (!needed.has(key)) continue;
    if (values[key] && !rotate.includes(key) && !jwtRotated) {
      kept.push(key);
      continue;
    }
    const token = signSupabaseKey(values.JWT_SECRET!, role);
    const why = checkSupabaseKey(token, values.JWT_SECRET!, role);
    if (why) throw new Error(`generated ${key} failed verification: ${why}`);
    updates.set(key, token);
    generated.push(key);
  }
  if (updates.size > 0) updateEnvFile(current.file, updates, template ? readFileSync(template, 'utf8') : undefined);
  return { file: current.file, generated, kept, newValues: generated.map((k) => updates.get(k)!) };
}
