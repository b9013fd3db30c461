/** The roles a node can carry. The order is the order services come up in. */
export const ROLES = [
  'etcd',
  'patroni',
  'haproxy',
  'redis',
  'supabase',
  'storage',
  'backend',
  'monitoring',
  'logs',
] as const;
export type Role = (typeof ROLES)[number];

/**
 * Roles no inventory lists: every node carries them while the environment has the role they serve.
 * `logs` is the log agent that ships the node's container logs to Loki on the monitoring node.
 */
export const IMPLIED_ROLES: Partial<Record<Role, Role>> = { logs: 'monitoring' };

/** A node's roles with the implied ones added (the inventory's order kept, duplicates dropped). */
export function withImpliedRoles(roles: readonly Role[], envRoles: ReadonlySet<Role>): Role[] {
  const implied = (Object.entries(IMPLIED_ROLES) as Array<[Role, Role]>).filter(([, serves]) => envRoles.has(serves)).map(([r]) => r);
  return [...new Set([...roles, ...implied])];
}

/** Roles whose members form a quorum / replica set: they need at least this many nodes. */
export const MIN_MEMBERS: Partial<Record<Role, number>> = { etcd: 3, patroni: 3 };

/** Environment profiles: dev is the small shape, prod adds synchronous mode, TLS, MinIO. */
export const PROFILES = ['dev', 'prod'] as const;
export type Profile = (typeof PROFILES)[number];

/** Hetzner node sizes: dev CCX13, prod CCX33. Part of each is kept for the OS and Docker. */
export const NODE_CAPACITY: Record<Profile, { cpus: number; memoryMiB: number; reserveMiB: number }> = {
  dev: { cpus: 2, memoryMiB: 8 * 1024, reserveMiB: 768 },
  prod: { cpus: 8, memoryMiB: 32 * 1024, reserveMiB: 2048 },
};
