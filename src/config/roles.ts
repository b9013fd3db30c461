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
  'backup',
  'logs',
  'archive',
] as const;
export type Role = (typeof ROLES)[number];

/**
 * Roles no inventory lists: a node carries one while the environment has the role it serves (and
 * the node the role it needs). `logs`: the log agent shipping the node's container logs to Loki on
 * the monitoring node. `archive`: pgBackRest beside a database node's PostgreSQL (WAL pushed to
 * the repository host, backups taken from it).
 */
export const IMPLIED_ROLES: Partial<Record<Role, { serves: Role; on?: Role }>> = {
  logs: { serves: 'monitoring' },
  archive: { serves: 'backup', on: 'patroni' },
};

/** A node's roles with the implied ones added (the inventory's order kept, duplicates dropped). */
export function withImpliedRoles(roles: readonly Role[], envRoles: ReadonlySet<Role>): Role[] {
  const implied = (Object.entries(IMPLIED_ROLES) as Array<[Role, { serves: Role; on?: Role }]>)
    .filter(([, r]) => envRoles.has(r.serves) && (!r.on || roles.includes(r.on)))
    .map(([role]) => role);
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

/** Where the app tier runs: Compose, one project per node (dev), or one Docker Swarm stack across the nodes (prod). */
export const ORCHESTRATORS = ['compose', 'swarm'] as const;
export type Orchestrator = (typeof ORCHESTRATORS)[number];
