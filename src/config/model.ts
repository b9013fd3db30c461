import type { SshSettings } from './schema.js';
import type { Profile, Role } from './roles.js';
import type { SupabaseSelection } from './supabase-services.js';
import type { Orchestrator } from './roles.js';

/** Backups of an environment with a repository host (role "backup"). */
export interface BackupSettings {
  /** Full backups kept (older ones expire with the WAL only they need). */
  retentionFull: number;
  /** cron expressions on the repository host's clock (UTC); incr optional. */
  schedule: { full: string; diff: string; incr?: string | undefined };
  /** status is degraded past these ages. */
  maxBackupAgeMin: number;
  maxWalAgeMin: number;
  /** prod: the second repository on S3 (repo2, encrypted), beside the repository host's own (repo1). */
  offsite: { uriStyle: 'host' | 'path'; caFile?: string | undefined; retentionFull: number } | undefined;
}

/** A node of the selected environment, with inherited settings resolved. */
export interface NodeConfig {
  name: string;
  host: string;
  /** Address the other nodes use to reach it (cluster traffic). Defaults to host. */
  privateAddress: string;
  roles: Role[];
  /** Never the synchronous standby (Patroni's nosync tag). */
  nosync: boolean;
  /** ssh settings merged: top level < environment < node (explicit values only). */
  ssh: SshSettings;
}

export interface EnvironmentConfig {
  name: string;
  profile: Profile;
  baseDir: string;
  envFile: string;
  initialLeader: string;
  rttMs: number;
  /** Synchronous replication: a commit waits for one standby's confirmation (prod's default). */
  synchronous: boolean;
  /** The nodes' size when the inventory names one; absent: the profile's (CCX13/CCX33). Limits are scaled to it. */
  nodeSize?: { cpus: number; memoryMiB: number } | undefined;
  /** The Supabase services this environment runs, and the dropped ones routed to the backend. */
  supabase: SupabaseSelection;
  /** Where the app tier runs: Compose per node (dev) or one Docker Swarm stack across the nodes (prod). */
  orchestrator: Orchestrator;
  /** Swarm: replicas per stack service (services not named: DEFAULT_REPLICAS). */
  swarm: { replicas: Record<string, number>; encrypted: boolean };
  /** Backups: retention, schedule and the ages status allows (defaults when the inventory is silent). */
  backup: BackupSettings;
  /** PostgreSQL parameters set in the inventory, over twincigo's defaults. */
  postgresParameters: Record<string, string | number | boolean>;
  nodes: NodeConfig[];
}

/** `twincigo migrate`: where the files are, and how to reach the database through HAProxy. */
export interface MigrationsConfig {
  /** Absolute. */
  dir: string;
  database: string;
  user: string;
  /** The env file key that holds user's password. */
  passwordKey: string;
  lockTimeout: string;
  statementTimeout: string;
}

export interface Config {
  /** Absolute path of the inventory file; relative paths in it are relative to its folder. */
  file: string;
  dir: string;
  environments: string[];
  env: EnvironmentConfig;
  /** Nodes after the --nodes filter. */
  nodes: NodeConfig[];
  migrations: MigrationsConfig;
}

export const DEFAULT_BASE_DIR = '/opt/twincigo-crm';
export const DEFAULT_RTT_MS = 70;

export function hasRole(node: NodeConfig, role: Role): boolean {
  return node.roles.includes(role);
}
