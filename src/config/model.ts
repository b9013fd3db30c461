import type { SshSettings } from './schema.js';
import type { Profile, Role } from './roles.js';

/** A node of the selected environment, with inherited settings resolved. */
export interface NodeConfig {
  name: string;
  host: string;
  /** Address the other nodes use to reach it (cluster traffic). Defaults to host. */
  privateAddress: string;
  roles: Role[];
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
  nodes: NodeConfig[];
}

export interface Config {
  /** Absolute path of the inventory file; relative paths in it are relative to its folder. */
  file: string;
  dir: string;
  environments: string[];
  env: EnvironmentConfig;
  /** Nodes after the --nodes filter. */
  nodes: NodeConfig[];
}

export const DEFAULT_BASE_DIR = '/opt/twincigo-crm';
export const DEFAULT_RTT_MS = 70;

export function hasRole(node: NodeConfig, role: Role): boolean {
  return node.roles.includes(role);
}
