import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { isSecretKey } from '../config/env-keys.js';
import type { EnvironmentConfig } from '../config/model.js';
import { ConfigError, TwincigoError } from '../errors.js';
import { roleFiles } from '../stack/compose-files.js';
import type { ServiceLimits } from '../stack/resources.js';
import { stackLimits } from './capacity.js';
import { mergeCompose } from './compose-merge.js';
import { interpolate, MissingVariable } from './interpolate.js';
import { POSTGREST_CONFIG, SECRET_TARGET, SHIM, envFileText, postgrestConfigText, shellTest } from './secret-env.js';
import { OVERLAY_NETWORK, STACK_ROLES, labelOf, replicasOf } from './services.js';

type Def = Record<string, unknown>;

/** A file the stack node holds beside the stack file (a secret's or a config's source). */
export interface StackSource {
  /** Relative to the node's base dir. */
  path: string;
  content: string;
  secret: boolean;
}

export interface RenderedStack {
  /** stack/app.yml: no secret value in it. */
  text: string;
  sources: StackSource[];
}

export const STACK_DIR = 'stack';

/**
 * Swarm replaces a task its healthcheck calls unhealthy — Compose only reports it. A check that
 * needs the database (the backend's /health, realtime's tenant) fails through every failover, so
 * with the compose files' 3 × 10 s every task of such a service was killed at once ~25 s into a
 * partition and the API stayed down ~6 s after the database was back (lab-prod, measured). In the
 * stack a task is unhealthy only after a minute of failed checks, longer than any failover prod
 * accepts (≤ 25 s); a new task still counts as started on its first passing check, so a release
 * that never gets healthy is still rolled back.
 */
export const UNHEALTHY_AFTER_SEC = 60;

/** Go's durations as Compose writes them ("10s", "1m30s", "500ms"), in seconds. */
export function durationSec(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new TwincigoError(`healthcheck: not a duration: ${JSON.stringify(text)} (e.g. 10s, 1m30s)`);
  return parts.reduce((n, [, v, u]) => n + Number(v) * { ms: 0.001, s: 1, m: 60, h: 3600 }[u as 'ms' | 's' | 'm' | 'h'], 0);
}

const swarmRetries = (hc: Def) => Math.max(Number(hc.retries ?? 3), Math.ceil(UNHEALTHY_AFTER_SEC / durationSec(String(hc.interval ?? '30s'))));
export const STACK_FILE = `${STACK_DIR}/app.yml`;
const sha = (s: string, n = 12) => createHash('sha256').update(s).digest('hex').slice(0, n);

/** The values the compose files read, as a node's .env has them (the edge's upstream is the backend's service name on the overlay). */
function stackValues(env: EnvironmentConfig, values: Record<string, string>): Record<string, string> {
  const v: Record<string, string> = {};
  for (const [k, x] of Object.entries(values)) if (x !== '') v[k] = x;
  v.BACKEND_UPSTREAM = 'backend:8080';
  v.REDIS_HOST = v.REDIS_HOST ?? 'redis';
  void env;
  return v;
}

/**
 * The app tier as one Swarm stack, from the same compose files Compose runs: every value
 * substituted (stack deploy gets no env file), secret values moved to one Swarm secret per service,
 * bind-mounted config files made Swarm configs, ports published in host mode on the edge only,
 * every service found by DNS (endpoint_mode dnsrr: the lab's kernel, and some real ones, have no IPVS).
 */
export function renderStack(env: EnvironmentConfig, values: Record<string, string>, configs: Record<string, string>): RenderedStack {
  const texts = STACK_ROLES.flatMap((r) => roleFiles(r, env).map((f) => f.content));
  const merged = mergeCompose(texts);
  const vars = stackValues(env, values);
  const limits = stackLimits(env);
  const out: { services: Record<string, Def>; secrets: Record<string, Def>; configs: Record<string, Def>; networks: Def; volumes: Def } = {
    services: {}, secrets: {}, configs: {}, networks: { app: { external: true, name: OVERLAY_NETWORK } }, volumes: {},
  };
  const sources: StackSource[] = [];
  const problems: string[] = [];
  for (const [name, def] of Object.entries(merged.services)) {
    try {
      const r = serviceSpec(env, name, def, vars, limits.find((l) => l.service === name), configs);
      out.services[name] = r.spec;
      for (const s of r.sources) {
        const key = s.key;
        (s.secret ? out.secrets : out.configs)[key] = { file: `${env.baseDir}/${s.path}`, name: `twincigo-${key.replace(/_/g, '-')}-${sha(s.content)}` };
        sources.push({ path: s.path, content: s.content, secret: s.secret });
      }
    } catch (err) {
      if (!(err instanceof MissingVariable)) throw err;
      problems.push(`stack service ${name}: ${err.message}`);
    }
  }
  if (problems.length) throw new ConfigError(env.envFile, problems);
  for (const v of Object.keys(merged.volumes)) out.volumes[v] = {};
  if (Object.keys(out.secrets).length === 0) delete (out as Partial<typeof out>).secrets;
  if (Object.keys(out.configs).length === 0) delete (out as Partial<typeof out>).configs;
  const header = `# Rendered by twincigo for ${env.name}: the app tier as one Docker Swarm stack (docker stack deploy -c … ${'twincigo-app'}).\n# No secret value is in this file: each service's are a Swarm secret (${SECRET_TARGET}).\n`;
  return { text: header + stringify(out, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' }), sources };
}

interface ServiceSources {
  key: string;
  path: string;
  content: string;
  secret: boolean;
}

function serviceSpec(env: EnvironmentConfig, name: string, def: Def, vars: Record<string, string>, limit: ServiceLimits | undefined, configs: Record<string, string>): { spec: Def; sources: ServiceSources[] } {
  const sources: ServiceSources[] = [];
  const plain: Record<string, string> = {};
  const secret: Array<[string, string]> = [];
  for (const [k, raw] of Object.entries((def.environment as Record<string, unknown> | undefined) ?? {})) {
    const text = String(raw ?? '');
    const r = interpolate(text, vars, true);
    if (r.used.some(isSecretKey)) secret.push([k, interpolate(text, vars).value]);
    else plain[k] = r.value;
  }
  const image = interpolate(String(def.image ?? ''), vars).value;
  const spec: Def = { image };
  if (Object.keys(plain).length) spec.environment = plain;
  const entry = def.entrypoint === undefined ? undefined : typeof def.entrypoint === 'string' ? ['/bin/sh', '-c', interpolate(def.entrypoint, vars, true).value] : (def.entrypoint as string[]).map((a) => interpolate(a, vars, true).value);
  const command = def.command === undefined ? undefined : (def.command as string[]).map((a) => interpolate(String(a), vars, true).value);
  if (secret.length && name === 'rest') {
    // PostgREST: no shell in the image; its config file, its only argument
    sources.push({ key: `${name}_env`, path: `${STACK_DIR}/secrets/${name}.conf`, content: postgrestConfigText(secret), secret: true });
    spec.entrypoint = ['postgrest'];
    spec.command = [POSTGREST_CONFIG];
    spec.secrets = [{ source: `${name}_env`, target: POSTGREST_CONFIG.replace('/run/secrets/', ''), mode: 0o444 }];
  } else if (secret.length) {
    sources.push({ key: `${name}_env`, path: `${STACK_DIR}/secrets/${name}.env`, content: envFileText(secret), secret: true });
    spec.entrypoint = SHIM;
    if (entry) spec.command = [...entry, ...(command ?? [])];
    else if (command) throw new MissingVariable(`sets a command without an entrypoint: say both, or neither (the image's own are used)`);
    // else: the image's own entrypoint + cmd, read on the node when the stack is deployed
    spec.secrets = [{ source: `${name}_env`, target: SECRET_TARGET.replace('/run/secrets/', ''), mode: 0o444 }];
  } else {
    if (entry) spec.entrypoint = entry;
    if (command) spec.command = command;
  }
  const hc = def.healthcheck as Def | undefined;
  if (hc) {
    const test = hc.test as string[];
    const usesSecret = test.some((a) => interpolate(String(a), vars).used.some(isSecretKey));
    spec.healthcheck = { ...hc, test: usesSecret ? shellTest(test.slice(1)) : test.map((a) => interpolate(String(a), vars, true).value), retries: swarmRetries(hc) };
  }
  const volumes: Def[] = [];
  for (const v of (def.volumes as string[] | undefined) ?? []) {
    const [src, target, mode] = v.split(':') as [string, string, string | undefined];
    if (src.startsWith('./')) {
      // a config file: a Swarm config, named by its content (a change is a new config and a rolling update)
      const path = src.slice(2);
      const content = configs[path];
      if (content === undefined) throw new MissingVariable(`mounts ${path}, which is not rendered`);
      const key = `${name}_${path.split('/').pop()!.replace(/[^A-Za-z0-9]/g, '_')}`;
      sources.push({ key, path: `${STACK_DIR}/${path}`, content, secret: false });
      spec.configs = [...((spec.configs as Def[] | undefined) ?? []), { source: key, target, mode: 0o444 }];
    } else volumes.push({ type: 'volume', source: src, target, read_only: mode === 'ro' });
  }
  if (volumes.length) spec.volumes = volumes;
  if (def.extra_hosts) spec.extra_hosts = def.extra_hosts;
  const nets = def.networks;
  spec.networks = Array.isArray(nets) || !nets ? ['app'] : nets;
  if (name === 'caddy') spec.ports = [80, 443].map((p) => ({ target: p, published: p, protocol: 'tcp', mode: 'host' }));
  if (def.stop_grace_period) spec.stop_grace_period = def.stop_grace_period;
  const replicas = name === 'caddy' ? 'global' : replicasOf(env, name);
  const update = { parallelism: 1, order: 'start-first', failure_action: 'rollback', monitor: '15s', delay: '2s' };
  const deploy: Def = {
    ...(replicas === 'global' ? { mode: 'global' } : { mode: 'replicated', replicas }),
    endpoint_mode: 'dnsrr',
    // no max_replicas_per_node: a start-first update needs room for the new task beside the old one
    placement: { constraints: [`node.labels.twincigo.${labelOf(name)} == true`] },
    update_config: replicas === 'global' ? { ...update, order: 'stop-first' } : update,
    rollback_config: { parallelism: 1, order: replicas === 'global' ? 'stop-first' : 'start-first' },
    restart_policy: { condition: 'any', delay: '2s' },
    resources: limit && limit.cpus !== null && limit.memoryMiB !== null ? { limits: { cpus: limit.cpus.toFixed(2), memory: `${Math.round(limit.memoryMiB)}M` } } : undefined,
  };
  spec.deploy = deploy;
  // what deploy compares: the spec and the content of everything it mounts
  const specHash = sha(JSON.stringify(spec) + sources.map((s) => sha(s.content, 64)).join(','), 16);
  deploy.labels = { 'twincigo.spec': specHash };
  return { spec, sources };
}
