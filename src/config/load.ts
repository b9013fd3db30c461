import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, UsageError } from '../errors.js';
import { environmentAddressProblems } from './address.js';
import { crossChecks } from './checks.js';
import { formatPath } from './path.js';
import { inventorySchema, type EnvironmentSpec, type InventorySpec } from './schema.js';
import { DEFAULT_BASE_DIR, DEFAULT_RTT_MS, type Config, type EnvironmentConfig, type MigrationsConfig } from './model.js';
import { selectNodes } from './select.js';
import { withImpliedRoles } from './roles.js';
import { swarmProblems } from '../swarm/services.js';
import { SUPABASE_SERVICES, selectionProblems, type SupabaseSelection } from './supabase-services.js';

export interface Inventory {
  file: string;
  dir: string;
  spec: InventorySpec;
}

/**
 * Reads and validates the inventory once; every problem is reported together (exit 2). Extra
 * environments may live beside it in `<name>.<env>.yml` files (e.g. twincigo.lab.yml, written by
 * the lab): same schema, validated the same way, their environments merged in.
 */
export function readInventory(path: string): Inventory {
  const file = resolve(path);
  const main = parseInventoryFile(file, true)!;
  const dir = dirname(file);
  const stem = basename(file).replace(/\.ya?ml$/, '');
  const sideRe = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.([a-z0-9-]+)\\.ya?ml$`);
  const environments = { ...main.environments };
  for (const f of readdirSync(dir).filter((f) => sideRe.test(f)).sort()) {
    const side = parseInventoryFile(join(dir, f), false);
    if (!side) continue;
    for (const [name, env] of Object.entries(side.environments)) {
      if (environments[name]) throw new ConfigError(join(dir, f), [`environments.${name}: already defined in ${basename(file)}`]);
      environments[name] = { ...env, ssh: { ...side.ssh, ...env.ssh }, baseDir: env.baseDir ?? side.baseDir };
    }
  }
  return { file, dir, spec: { ...main, environments } };
}

function parseInventoryFile(file: string, required: boolean): InventorySpec | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!required && code === 'ENOENT') return undefined;
    throw new UsageError(
      code === 'ENOENT' ? `inventory not found: ${file}` : `cannot read inventory ${file}: ${String(err)}`,
      ['pass -c/--config <file>, or run twincigo from the folder that holds twincigo.yml'],
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return `line ${pos.line}, column ${pos.col}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  const raw: unknown = doc.toJS();
  const parsed = inventorySchema.safeParse(raw);
  const problems = [...(parsed.success ? [] : parsed.error.issues.flatMap(describeIssue)), ...crossChecks(raw)];
  if (problems.length > 0 || !parsed.success) throw new ConfigError(file, problems);
  return parsed.data;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${formatPath([...path, k])}: unknown key`);
  }
  if (issue.code === 'invalid_value' && issue.values.length > 0) {
    return [`${formatPath(path)}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`];
  }
  if (issue.code === 'invalid_type') {
    const missing = issue.message.includes('received undefined');
    return [`${formatPath(path)}: ${missing ? 'is required' : `must be ${issue.expected}`}`];
  }
  return [`${formatPath(path)}: ${issue.message}`];
}

/** Resolves one environment: inherited settings, defaults, paths relative to the inventory. */
export function resolveEnvironment(inv: Inventory, name: string): EnvironmentConfig {
  const spec: EnvironmentSpec | undefined = inv.spec.environments[name];
  if (!spec) {
    throw new UsageError(`unknown environment "${name}" in ${inv.file}`, [
      `environments defined: ${Object.keys(inv.spec.environments).join(', ') || '(none)'}`,
    ]);
  }
  const addressProblems = environmentAddressProblems(name, spec.nodes);
  const synchronous = spec.synchronous ?? (spec.profile ?? (name === 'prod' ? 'prod' : 'dev')) === 'prod';
  const mayBeSync = spec.nodes.filter((n) => n.roles.includes('patroni') && !n.nosync).length;
  if (synchronous && mayBeSync < 2) {
    addressProblems.push(`environments.${name}: synchronous replication needs a replica that may be the synchronous standby — every member but ${mayBeSync} has nosync (drop nosync from one, or set synchronous: false)`);
  }
  const supabase: SupabaseSelection = { services: [...new Set(spec.supabase?.services ?? SUPABASE_SERVICES)], toBackend: [...new Set(spec.supabase?.toBackend ?? [])] };
  addressProblems.push(...selectionProblems(`environments.${name}.supabase`, supabase, spec.nodes.some((n) => n.roles.includes('backend'))));
  const profile = spec.profile ?? (name === 'prod' ? 'prod' : 'dev');
  const orchestrator = spec.orchestrator ?? (profile === 'prod' ? 'swarm' : 'compose');
  const replicas = spec.swarm?.replicas ?? {};
  addressProblems.push(...swarmProblems(`environments.${name}`, { profile, orchestrator, replicas, swarmSet: spec.swarm !== undefined, nodes: spec.nodes }));
  if (addressProblems.length > 0) throw new ConfigError(inv.file, addressProblems);
  const envRoles = new Set(spec.nodes.flatMap((n) => n.roles));
  const leader = spec.initialLeader ?? spec.nodes.find((n) => n.roles.includes('patroni'))?.name ?? '';
  return {
    name,
    profile,
    baseDir: spec.baseDir ?? inv.spec.baseDir ?? DEFAULT_BASE_DIR,
    envFile: resolve(inv.dir, spec.envFile ?? `env/.env.${name}`),
    initialLeader: leader,
    rttMs: spec.rttMs ?? DEFAULT_RTT_MS,
    synchronous,
    nodeSize: spec.nodeSize ? { cpus: spec.nodeSize.cpus, memoryMiB: Math.round(spec.nodeSize.memoryGiB * 1024) } : undefined,
    supabase,
    orchestrator,
    swarm: { replicas, encrypted: spec.swarm?.encrypted ?? true },
    backup: {
      retentionFull: spec.backup?.retentionFull ?? 2,
      // weekly full on Sunday, daily differential on the other days, at 03:00 UTC
      schedule: { full: spec.backup?.schedule?.full ?? '0 3 * * 0', diff: spec.backup?.schedule?.diff ?? '0 3 * * 1-6', incr: spec.backup?.schedule?.incr },
      maxBackupAgeMin: Math.round((spec.backup?.maxBackupAgeHours ?? 26) * 60),
      maxWalAgeMin: spec.backup?.maxWalAgeMinutes ?? 5,
      // prod always has it (its keys are required there); dev only has the repository host's
      offsite: profile === 'prod' && envRoles.has('backup')
        ? {
          uriStyle: spec.backup?.offsite?.uriStyle ?? 'host',
          caFile: spec.backup?.offsite?.caFile ? resolve(inv.dir, spec.backup.offsite.caFile) : undefined,
          retentionFull: spec.backup?.offsite?.retentionFull ?? spec.backup?.retentionFull ?? 2,
        }
        : undefined,
    },
    postgresParameters: spec.postgres?.parameters ?? {},
    nodes: spec.nodes.map((n) => ({
      name: n.name,
      host: n.host,
      // the cluster address: always an IP (checked above)
      privateAddress: n.privateAddress ?? n.host,
      roles: withImpliedRoles(n.roles, envRoles),
      nosync: n.nosync ?? false,
      ssh: { ...inv.spec.ssh, ...spec.ssh, ...n.ssh },
    })),
  };
}

/** Migration settings with defaults: migrations/ beside the inventory, as postgres via POSTGRES_PASSWORD. */
export function resolveMigrations(inv: Inventory): MigrationsConfig {
  const m = inv.spec.migrations ?? {};
  return {
    dir: resolve(inv.dir, m.dir ?? 'migrations'),
    database: m.database ?? 'postgres',
    user: m.user ?? 'postgres',
    passwordKey: m.passwordKey ?? 'POSTGRES_PASSWORD',
    lockTimeout: m.lockTimeout ?? '5s',
    statementTimeout: m.statementTimeout ?? '15min',
  };
}

export interface LoadOptions {
  configPath: string;
  env: string;
  nodes?: string | undefined;
}

/** The validated configuration of one environment, with the --nodes selection: what every command works from. */
export function configFor(inv: Inventory, envName: string, nodes?: string | undefined): Config {
  const env = resolveEnvironment(inv, envName);
  return {
    file: inv.file,
    dir: inv.dir,
    environments: Object.keys(inv.spec.environments),
    env,
    nodes: selectNodes(env, nodes),
    migrations: resolveMigrations(inv),
  };
}

export function loadConfig(opts: LoadOptions): Config {
  return configFor(readInventory(opts.configPath), opts.env, opts.nodes);
}
