import { z } from 'zod';
import { hostProblem, privateAddressProblem } from './address.js';
import { ORCHESTRATORS, PROFILES, ROLES } from './roles.js';
import { BACKEND_REPLACEABLE, SUPABASE_SERVICES } from './supabase-services.js';

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const sshSettingsSchema = z.strictObject({
  user: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  identity: z.string().min(1).optional(),
  knownHosts: z.string().min(1).optional(),
  config: z.union([z.string().min(1), z.literal(false)]).optional(),
  jump: z.string().min(1).optional(),
  connectTimeout: z.number().positive().max(600).optional(),
  commandTimeout: z.number().positive().optional(),
  keepaliveInterval: z.number().positive().optional(),
  /** Seconds a connection is kept open after a command for the next one (status); 0 = never. */
  persist: z.number().min(0).max(86400).optional(),
});

/** The nodes' base dir reaches scripts and unit files: an absolute path of plain characters only. */
const BASE_DIR = z.string().regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path of letters, digits, . _ - and /, e.g. /opt/twincigo-crm');

function refineWith(problem: (s: string) => string | null) {
  return (s: string, ctx: z.RefinementCtx) => {
    const p = problem(s);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  };
}

export const nodeSchema = z.strictObject({
  name: z.string().regex(NAME, 'must be a lower-case hostname label (a-z, 0-9, -)'),
  host: z.string().superRefine(refineWith(hostProblem)),
  privateAddress: z.string().superRefine(refineWith(privateAddressProblem)).optional(),
  ssh: sshSettingsSchema.optional(),
  roles: z.array(z.enum(ROLES)).min(1),
  /** Patroni's nosync tag: this member is never chosen as the synchronous standby (e.g. across a region). */
  nosync: z.boolean().optional(),
});

/** A cron expression: five fields of numbers, *, lists, ranges and steps (the repository host's clock, UTC). */
const CRON = z.string().regex(/^\s*([0-9*,/-]+\s+){4}[0-9*,/-]+\s*$/, 'must be a cron expression of five fields, e.g. "0 3 * * 0"');

export const environmentSchema = z.strictObject({
  profile: z.enum(PROFILES).optional(),
  envFile: z.string().min(1).optional(),
  baseDir: BASE_DIR.optional(),
  initialLeader: z.string().optional(),
  /** Synchronous replication (Patroni synchronous_mode): a commit waits for one standby. Default: on in prod, off in dev. */
  synchronous: z.boolean().optional(),
  rttMs: z.number().positive().max(1000).optional(),
  /**
   * The nodes' size when it is not the profile's (dev CCX13: 2 CPUs, 8 GiB; prod CCX33: 8 CPUs,
   * 32 GiB): every service's limit is scaled to it (a rendered limits.yml).
   */
  nodeSize: z.strictObject({ cpus: z.number().positive().max(512), memoryGiB: z.number().positive().max(4096) }).optional(),
  skipRoles: z.array(z.enum(ROLES)).optional(),
  /** Where the app tier (Supabase, the backend, the edge) runs: prod's default is Docker Swarm across the nodes; dev's is Compose on one node each. */
  orchestrator: z.enum(ORCHESTRATORS).optional(),
  /** Swarm: replicas per stack service (default 2; Swarm spreads them over the nodes that may run it). */
  swarm: z.strictObject({
    replicas: z.record(z.string(), z.number().int().min(1).max(20)).optional(),
    /** The stack's overlay encrypted (IPsec between the nodes; default true). Off only where the kernel has no ESP. */
    encrypted: z.boolean().optional(),
  }).optional(),
  /** The Supabase services to run (default: all) and the dropped ones whose routes go to the backend. */
  supabase: z.strictObject({
    services: z.array(z.enum(SUPABASE_SERVICES)).optional(),
    toBackend: z.array(z.enum(BACKEND_REPLACEABLE)).optional(),
  }).optional(),
  /** Backups (role "backup"): retention, the schedule the repository host keeps, and when status calls them too old. */
  backup: z.strictObject({
    retentionFull: z.number().int().min(1).max(100).optional(),
    schedule: z.strictObject({ full: CRON.optional(), diff: CRON.optional(), incr: CRON.optional() }).optional(),
    maxBackupAgeHours: z.number().positive().max(24 * 90).optional(),
    maxWalAgeMinutes: z.number().positive().max(24 * 60).optional(),
    /** prod's second repository on S3 (endpoint, bucket, region and keys come from the env file): how to reach it, how many full backups it keeps. */
    offsite: z.strictObject({
      uriStyle: z.enum(['host', 'path']).optional(),
      /** A CA certificate (PEM) to trust for the endpoint, for a self-hosted S3 with its own CA; relative to this file. */
      caFile: z.string().min(1).optional(),
      retentionFull: z.number().int().min(1).max(100).optional(),
    }).optional(),
  }).optional(),
  /** PostgreSQL parameters over twincigo's defaults (Patroni's DCS config; deploy applies them). */
  postgres: z.strictObject({ parameters: z.record(z.string().regex(/^[a-z_][a-z0-9_.]*$/, 'must be a PostgreSQL parameter name'), z.union([z.string(), z.number(), z.boolean()])).optional() }).optional(),
  ssh: sshSettingsSchema.optional(),
  nodes: z.array(nodeSchema).min(1),
});

/** A PostgreSQL duration as SET accepts it (lock_timeout, statement_timeout). */
export const DURATION = /^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?$/;
const duration = z.string().regex(DURATION, 'must be a PostgreSQL duration, e.g. 5s, 500ms, 15min');

export const migrationsSchema = z.strictObject({
  dir: z.string().min(1).optional(),
  database: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  passwordKey: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an env key, e.g. POSTGRES_PASSWORD').optional(),
  lockTimeout: duration.optional(),
  statementTimeout: duration.optional(),
});

export const inventorySchema = z.strictObject({
  version: z.literal(1),
  migrations: migrationsSchema.optional(),
  baseDir: BASE_DIR.optional(),
  ssh: sshSettingsSchema.optional(),
  environments: z.record(z.string().regex(NAME, 'environment names are lower-case labels'), environmentSchema),
});

export type SshSettings = z.infer<typeof sshSettingsSchema>;
export type NodeSpec = z.infer<typeof nodeSchema>;
export type EnvironmentSpec = z.infer<typeof environmentSchema>;
export type InventorySpec = z.infer<typeof inventorySchema>;
