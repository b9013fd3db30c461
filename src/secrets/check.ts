import { isSecretKey, keysFor } from '../config/env-keys.js';
import { missingKeys, type EnvValues } from '../config/env-file.js';
import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { namesRegistry } from '../bootstrap/images.js';
import { alertReceivers } from '../stack/alertmanager-config.js';
import { imageKeysFor } from '../stack/compose-files.js';
import { PLACEHOLDER } from './generate.js';
import { checkSupabaseKey } from './jwt.js';
import { secretWeakness } from './strength.js';

export type EnvProblemKind = 'missing' | 'placeholder' | 'weak' | 'invalid' | 'unpinned';

export interface EnvProblem {
  key: string;
  kind: EnvProblemKind;
  message: string;
}

/**
 * Prod runs only images pinned by digest (a tag can be moved to other content): every image its
 * nodes' services use is set in the env file as `name@sha256:…` (a compose default is a tag), and
 * ours (PATRONI_IMAGE) from a registry the reference names — built once by CI, never by a node.
 */
function prodImageProblems(env: EnvironmentConfig, nodes: NodeConfig[], v: Record<string, string>): EnvProblem[] {
  const keys = new Map<string, string>();
  for (const n of nodes) for (const [k, d] of imageKeysFor(n.roles, env)) keys.set(k, d);
  const out: EnvProblem[] = [];
  for (const [key, fallback] of [...keys].sort(([a], [b]) => a.localeCompare(b))) {
    const value = v[key] ?? '';
    if (value === '') out.push({ key, kind: 'unpinned', message: `${key} is not set: prod runs images pinned by digest, and the default ${fallback || '(none)'} is a tag — set ${key}=<image>@sha256:<digest>` });
    else if (!/@sha256:[0-9a-f]{64}$/.test(value)) out.push({ key, kind: 'unpinned', message: `${key}=${value} is not pinned by digest: prod runs <image>@sha256:<digest> (docker buildx imagetools inspect <image> shows it)` });
    else if (key === 'PATRONI_IMAGE' && !namesRegistry(value)) out.push({ key, kind: 'unpinned', message: `${key}=${value} names no registry: our Patroni image is pulled only from the registry CI pushes it to (registry.example.com/…), never by a bare public name` });
  }
  return out;
}

/** Alerts must reach someone in prod: a webhook and/or email, each complete. */
function receiverProblems(profile: string, v: Record<string, string>): EnvProblem[] {
  const { receivers, problems } = alertReceivers(v);
  const out: EnvProblem[] = problems.map((message) => ({ key: /ALERT_[A-Z_]+/.exec(message)?.[0] ?? 'ALERT_WEBHOOK_URL', kind: 'invalid', message }));
  if (profile === 'prod' && !receivers.webhook && !receivers.email && problems.length === 0) {
    out.push({ key: 'ALERT_WEBHOOK_URL', kind: 'missing', message: 'no alert receiver: prod alerts would reach no one — set ALERT_WEBHOOK_URL (ALERT_WEBHOOK_KIND slack|discord|webhook) and/or ALERT_EMAIL_TO, ALERT_SMTP_FROM, ALERT_SMTP_SMARTHOST' });
  }
  return out;
}

const isTrue = (v: string | undefined, dflt: boolean) => (v === undefined || v === '' ? dflt : /^(true|1|yes|on)$/i.test(v));

/**
 * Auth's mail: an email sign-up that must be confirmed (ENABLE_EMAIL_AUTOCONFIRM off, auth's
 * default) needs SMTP to send the confirmation — without it nobody can ever confirm. Checked
 * where auth runs.
 */
function authMailProblems(env: EnvironmentConfig, v: Record<string, string>): EnvProblem[] {
  if (!env.supabase.services.includes('auth')) return [];
  const signups = isTrue(v.ENABLE_EMAIL_SIGNUP, true) && !isTrue(v.DISABLE_SIGNUP, false);
  if (!signups || isTrue(v.ENABLE_EMAIL_AUTOCONFIRM, false)) return [];
  const missing = ['SMTP_HOST', 'SMTP_ADMIN_EMAIL'].filter((k) => !v[k]);
  if (missing.length === 0) return [];
  return [{
    key: missing[0]!,
    kind: 'missing',
    message: `email sign-ups must be confirmed (ENABLE_EMAIL_AUTOCONFIRM is off) but auth has no SMTP to send the mail: set ${missing.join(' and ')} (with SMTP_PORT, SMTP_USER, SMTP_PASS), or ENABLE_EMAIL_AUTOCONFIRM=true (dev), or ENABLE_EMAIL_SIGNUP=false`,
  }];
}

/** Minimum lengths of generated-quality secrets. */
const MIN_LENGTH: Record<string, number> = { JWT_SECRET: 32, VAULT_ENC_KEY: 32, SECRET_KEY_BASE: 32 };

/** Everything wrong with an environment's values: missing, placeholder, weak, invalid JWT keys, unpinned images. */
export function envProblems(env: EnvironmentConfig, values: EnvValues, nodes: NodeConfig[] = env.nodes): EnvProblem[] {
  const problems: EnvProblem[] = [];
  for (const m of missingKeys(env, values, nodes)) {
    problems.push({ key: m.key, kind: 'missing', message: `${m.key} is missing — ${m.about} (needed by ${m.roles.join(', ')} on ${m.nodes.join(', ')})` });
  }
  const needed = new Set(nodes.flatMap((n) => [...keysFor(n.roles, env.profile).keys()]));
  const v = values.values;
  for (const key of needed) {
    const value = v[key];
    if (value === undefined || value === '') continue;
    if (PLACEHOLDER.test(value.trim())) {
      problems.push({ key, kind: 'placeholder', message: `${key} still has a placeholder value` });
      continue;
    }
    if (!isSecretKey(key)) continue;
    const min = MIN_LENGTH[key] ?? 16;
    if (key === 'PGSODIUM_ROOT_KEY' && !/^[0-9a-f]{64}$/i.test(value)) {
      problems.push({ key, kind: 'weak', message: 'PGSODIUM_ROOT_KEY must be 64 hex characters (32 bytes)' });
    } else if (!['ANON_KEY', 'SERVICE_ROLE_KEY', 'PGSODIUM_ROOT_KEY'].includes(key)) {
      const why = secretWeakness(value, min);
      if (why) problems.push({ key, kind: 'weak', message: `${key} ${why}; generate one: twincigo secrets init --env ${env.name} --rotate ${key}` });
    }
  }
  if (needed.has('ACME_EMAIL') && v.ACME_EMAIL && !PLACEHOLDER.test(v.ACME_EMAIL.trim()) && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.ACME_EMAIL)) {
    problems.push({ key: 'ACME_EMAIL', kind: 'invalid', message: `ACME_EMAIL=${v.ACME_EMAIL} is not an email address (Let's Encrypt writes to it about expiring certificates)` });
  }
  const jwt = v.JWT_SECRET;
  for (const [key, role] of [['ANON_KEY', 'anon'], ['SERVICE_ROLE_KEY', 'service_role']] as const) {
    if (!needed.has(key) || !v[key] || !jwt) continue;
    const why = checkSupabaseKey(v[key]!, jwt, role);
    if (why) problems.push({ key, kind: 'invalid', message: `${key} ${why}; regenerate it: twincigo secrets init --env ${env.name} --rotate ${key}` });
  }
  if (env.profile === 'prod') problems.push(...prodImageProblems(env, nodes, v));
  if (nodes.some((n) => n.roles.includes('monitoring'))) problems.push(...receiverProblems(env.profile, v));
  if (nodes.some((n) => n.roles.includes('supabase'))) problems.push(...authMailProblems(env, v));
  for (const [key, value] of Object.entries(v)) {
    if (!key.endsWith('_IMAGE') || value === '' || (env.profile === 'prod' && problems.some((p) => p.key === key))) continue;
    const tag = /:([^/:@]+)$/.exec(value)?.[1];
    if (!value.includes('@sha256:') && (!tag || tag === 'latest')) problems.push({ key, kind: 'unpinned', message: `${key}=${value} is not pinned to a version` });
  }
  return problems;
}
