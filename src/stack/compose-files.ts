import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { Orchestrator, Profile, Role } from '../config/roles.js';
import { STACK_ROLES } from '../swarm/services.js';
import { ALL_SUPABASE, SUPABASE_SERVICES, type SupabaseSelection } from '../config/supabase-services.js';
import { parseCompose } from './resources.js';

/** compose/ as shipped with twincigo. */
export const COMPOSE_DIR = fileURLToPath(new URL('../../compose/', import.meta.url));

export interface ComposeFile {
  /** Path relative to compose/ and to the node's base dir. */
  path: string;
  content: string;
}

/** What decides a node's compose files besides its roles: the profile, and which Supabase services run. */
export interface StackShape {
  profile: Profile;
  supabase?: SupabaseSelection | undefined;
  /** Swarm: the app tier's roles run in the stack, not under Compose on a node. */
  orchestrator?: Orchestrator | undefined;
}

/**
 * A Supabase compose file without the services the environment does not run (and without the
 * depends_on entries that named them); the shipped text itself when nothing is dropped.
 */
function withoutDropped(content: string, sel: SupabaseSelection): string {
  const dropped = SUPABASE_SERVICES.filter((s) => !sel.services.includes(s));
  const doc = parseDocument(content);
  const names = Object.keys((doc.toJS() as { services?: Record<string, unknown> } | null)?.services ?? {});
  const gone = names.filter((n) => (dropped as readonly string[]).includes(n));
  if (gone.length === 0) return content;
  for (const name of gone) doc.deleteIn(['services', name]);
  for (const name of names.filter((n) => !gone.includes(n))) {
    for (const g of gone) if (doc.hasIn(['services', name, 'depends_on', g])) doc.deleteIn(['services', name, 'depends_on', g]);
    const deps = doc.getIn(['services', name, 'depends_on']) as { items?: unknown[] } | undefined;
    if (deps && Array.isArray(deps.items) && deps.items.length === 0) doc.deleteIn(['services', name, 'depends_on']);
  }
  return `# Rendered by twincigo: Supabase services not run in this environment removed (${gone.join(', ')})\n${doc.toString()}`;
}

/**
 * The compose files of a role: compose/<role>.yml (the dev shape), plus compose/prod/<role>.yml
 * merged over it in prod. A role may have no file of its own in a profile (dev storage is
 * Supabase storage's volume on its node). Supabase's files keep only the services the
 * environment runs.
 */
export function composeFilesFor(role: Role, shape: StackShape): ComposeFile[] {
  return shape.orchestrator === 'swarm' && STACK_ROLES.includes(role) ? [] : roleFiles(role, shape);
}

/** A role's compose files whatever runs them (Compose on a node, or the Swarm stack rendered from them). */
export function roleFiles(role: Role, shape: StackShape): ComposeFile[] {
  const out: ComposeFile[] = [];
  for (const path of [`${role}.yml`, ...(shape.profile === 'prod' ? [`prod/${role}.yml`] : [])]) {
    const file = COMPOSE_DIR + path;
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    out.push({ path: `compose/${path}`, content: role === 'supabase' ? withoutDropped(text, shape.supabase ?? ALL_SUPABASE) : text });
  }
  return out;
}

/** The env keys that name the images of a role's services (`image: ${X_IMAGE:-default}`), with each default. */
export function imageKeysFor(roles: readonly Role[], shape: StackShape): Map<string, string> {
  const keys = new Map<string, string>();
  for (const role of roles) {
    for (const f of roleFiles(role, shape)) {
      for (const m of f.content.matchAll(/^\s+image:\s*\$\{([A-Z0-9_]+_IMAGE)(?::-([^}]*))?\}/gm)) keys.set(m[1]!, m[2] ?? '');
    }
  }
  return keys;
}

/** The services a node runs for its roles (the compose files merged as compose merges them). */
export function servicesFor(roles: readonly Role[], shape: StackShape): string[] {
  const names = new Set<string>();
  for (const role of roles) {
    for (const f of composeFilesFor(role, shape)) {
      const doc = parseCompose(f.content) as { services?: Record<string, unknown> } | null;
      for (const name of Object.keys(doc?.services ?? {})) names.add(name);
    }
  }
  return [...names];
}
