import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Profile, Role } from '../config/roles.js';
import { parseCompose } from './resources.js';

/** compose/ as shipped with twincigo. */
export const COMPOSE_DIR = fileURLToPath(new URL('../../compose/', import.meta.url));

export interface ComposeFile {
  /** Path relative to compose/ and to the node's base dir. */
  path: string;
  content: string;
}

/**
 * The compose files of a role: compose/<role>.yml (the dev shape), plus compose/prod/<role>.yml
 * merged over it in prod. A role may have no file of its own in a profile (dev storage is
 * Supabase storage's volume on its node).
 */
export function composeFilesFor(role: Role, profile: Profile): ComposeFile[] {
  const out: ComposeFile[] = [];
  for (const path of [`${role}.yml`, ...(profile === 'prod' ? [`prod/${role}.yml`] : [])]) {
    const file = COMPOSE_DIR + path;
    if (existsSync(file)) out.push({ path: `compose/${path}`, content: readFileSync(file, 'utf8') });
  }
  return out;
}

/** The env keys that name the images of a role's services (`image: ${X_IMAGE:-default}`), with each default. */
export function imageKeysFor(roles: readonly Role[], profile: Profile): Map<string, string> {
  const keys = new Map<string, string>();
  for (const role of roles) {
    for (const f of composeFilesFor(role, profile)) {
      for (const m of f.content.matchAll(/^\s+image:\s*\$\{([A-Z0-9_]+_IMAGE)(?::-([^}]*))?\}/gm)) keys.set(m[1]!, m[2] ?? '');
    }
  }
  return keys;
}

/** The services a node runs for its roles (the compose files merged as compose merges them). */
export function servicesFor(roles: readonly Role[], profile: Profile): string[] {
  const names = new Set<string>();
  for (const role of roles) {
    for (const f of composeFilesFor(role, profile)) {
      const doc = parseCompose(f.content) as { services?: Record<string, unknown> } | null;
      for (const name of Object.keys(doc?.services ?? {})) names.add(name);
    }
  }
  return [...names];
}
