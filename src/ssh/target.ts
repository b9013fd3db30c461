import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { SshSettings } from '../config/schema.js';
import { expandTilde, lookupSshConfig, readSshConfig } from './ssh-config.js';

/** Everything needed to open one SSH connection; jump hosts are targets themselves. */
export interface SshTarget {
  label: string;
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  knownHostsFile: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  commandTimeoutMs: number;
  /** How long a kept connection waits unused for the next command (0: not kept). */
  persistMs: number;
  jump?: SshTarget;
}

/** Commands marked root get `sudo -n` when the SSH user is not root. */
export const usesSudo = (target: SshTarget): boolean => target.user !== 'root';

export const SSH_DEFAULTS = {
  user: 'root',
  port: 22,
  connectTimeout: 10,
  commandTimeout: 600,
  keepaliveInterval: 15,
  persist: 60,
};

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function pathFrom(baseDir: string, p: string): string {
  const expanded = expandTilde(p);
  return isAbsolute(expanded) ? expanded : resolve(baseDir, expanded);
}

/** `[user@]host[:port]` */
export function parseHostSpec(spec: string): { user?: string; host: string; port?: number } {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim());
  if (!m) throw new Error(`invalid host "${spec}": expected [user@]host[:port]`);
  return { user: m[1], host: m[2]!.replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : undefined };
}

/**
 * Resolves a host the way OpenSSH would: explicit inventory settings first, then ~/.ssh/config
 * (HostName, User, Port, IdentityFile, ProxyJump), then defaults.
 */
export function resolveTarget(label: string, host: string, ssh: SshSettings, baseDir: string): SshTarget {
  const configFile = ssh.config === false ? undefined : pathFrom(baseDir, ssh.config ?? '~/.ssh/config');
  const fromConfig = configFile ? lookupSshConfig(readSshConfig(configFile), host) : {};
  const explicitIds = ssh.identity ? [pathFrom(baseDir, ssh.identity)] : undefined;
  const identityFiles =
    explicitIds ??
    fromConfig.identityFile ??
    DEFAULT_KEYS.map((k) => join(homedir(), '.ssh', k)).filter((f) => existsSync(f));
  const target: SshTarget = {
    label,
    host: fromConfig.hostName ?? host,
    port: ssh.port ?? fromConfig.port ?? SSH_DEFAULTS.port,
    user: ssh.user ?? fromConfig.user ?? SSH_DEFAULTS.user,
    identityFiles,
    knownHostsFile: pathFrom(baseDir, ssh.knownHosts ?? fromConfig.userKnownHostsFile ?? '~/.ssh/known_hosts'),
    connectTimeoutMs: (ssh.connectTimeout ?? SSH_DEFAULTS.connectTimeout) * 1000,
    keepaliveIntervalMs: (ssh.keepaliveInterval ?? SSH_DEFAULTS.keepaliveInterval) * 1000,
    commandTimeoutMs: (ssh.commandTimeout ?? SSH_DEFAULTS.commandTimeout) * 1000,
    persistMs: (ssh.persist ?? SSH_DEFAULTS.persist) * 1000,
  };
  const jumpSpec = ssh.jump ?? fromConfig.proxyJump;
  if (jumpSpec) {
    const hops = jumpSpec.split(',');
    let previous: SshTarget | undefined;
    for (const hop of hops) {
      const { user, host: jumpHost, port } = parseHostSpec(hop);
      const hopSettings: SshSettings = { ...ssh, jump: undefined, user, port };
      // A hop takes its own settings from ~/.ssh/config; only the identity and known_hosts carry over.
      if (!ssh.identity) delete hopSettings.identity;
      const resolved = resolveTarget(`jump host ${jumpHost}`, jumpHost, hopSettings, baseDir);
      if (previous) resolved.jump = previous;
      previous = resolved;
    }
    target.jump = previous;
  }
  return target;
}
