import type { BackupSettings, EnvironmentConfig, NodeConfig } from '../config/model.js';
import { offsiteRepoLines, type OffsiteEndpoint } from './offsite.js';
import { derive, issue, keyFromSeed, type Issued } from './x509.js';

/**
 * pgBackRest for an environment: one stanza, a repository on the node with role `backup` (the
 * repository host), reached over pgBackRest's TLS server on every side — the database nodes push
 * WAL to it and it backs up from them — with client certificates from a CA derived from one
 * secret (PGBACKREST_TLS_SEED), so no SSH key lives in a container.
 */
export const STANZA = 'twincigo';
/** The schedule file the repository host's scheduler reads: "m h dom mon dow type" per line. */
export function scheduleFile(env: EnvironmentConfig): string {
  const s = env.backup.schedule;
  const lines = (['full', 'diff', 'incr'] as const).filter((t) => s[t]).map((t) => `${s[t]!.trim().split(/\s+/).join(' ')} ${t}`);
  return `# Rendered by twincigo (${env.name}): the backups the repository host takes, UTC.\n${lines.join('\n')}\n`;
}

/** The repositories each scheduled backup goes to, in turn ("1" or "1 2"). */
export const repositoriesFile = (offsite: boolean) => (offsite ? '1 2\n' : '1\n');

/** The database nodes' pgBackRest servers, and the repository host's. */
export const DB_PORT = 8432;
export const REPO_PORT = 8433;
/** Where the files are inside the containers (the Patroni image and the repository host's). */
export const PATHS = {
  conf: '/etc/pgbackrest/pgbackrest.conf',
  tls: '/etc/pgbackrest/tls',
  repo: '/var/lib/pgbackrest',
  pgdata: '/var/lib/postgresql/data/pgdata',
  socket: '/var/run/postgresql',
} as const;

export const repoHost = (env: EnvironmentConfig): NodeConfig | undefined => env.nodes.find((n) => n.roles.includes('backup'));
const dbNodes = (env: EnvironmentConfig) => env.nodes.filter((n) => n.roles.includes('patroni'));

/** The CA and one node's certificate and key (the node's cluster address as its name: CN, SAN IP and DNS). */
export function tlsFiles(env: EnvironmentConfig, node: NodeConfig, seed: string): { ca: string; node: Issued } {
  const caKey = keyFromSeed(derive(seed, `ca:${env.name}`));
  const caName = `twincigo ${env.name} pgBackRest CA`;
  const ca = issue({ commonName: caName, ca: true, key: caKey });
  const leaf = issue({
    commonName: node.privateAddress,
    ips: /^\d+\.\d+\.\d+\.\d+$/.test(node.privateAddress) ? [node.privateAddress] : [],
    dns: [node.privateAddress, node.name],
    key: keyFromSeed(derive(seed, `node:${env.name}:${node.name}`)),
    issuer: { commonName: caName, key: caKey },
  });
  return { ca: ca.cert, node: leaf };
}

const tlsClient = (prefix: string) => [
  `${prefix}-type=tls`,
  `${prefix}-ca-file=${PATHS.tls}/ca.crt`,
  `${prefix}-cert-file=${PATHS.tls}/node.crt`,
  `${prefix}-key-file=${PATHS.tls}/node.key`,
];
const tlsServer = (port: number, clients: NodeConfig[]) => [
  'tls-server-address=*',
  `tls-server-port=${port}`,
  `tls-server-ca-file=${PATHS.tls}/ca.crt`,
  `tls-server-cert-file=${PATHS.tls}/node.crt`,
  `tls-server-key-file=${PATHS.tls}/node.key`,
  // only these clients, only this stanza: a certificate's CN is its node's cluster address (one line per client)
  ...clients.map((c) => `tls-server-auth=${c.privateAddress}=${STANZA}`),
];
const HEAD = (env: EnvironmentConfig, node: NodeConfig, what: string) => `# Rendered by twincigo for ${node.name} (${env.name}): ${what}; do not edit on the node.`;
const COMMON = ['log-level-console=info', 'log-level-file=off', 'compress-type=zst'];

/**
 * A database node's pgbackrest.conf (the Patroni container and its pgBackRest server beside it):
 * WAL is pushed to the repository host from whichever member leads, restores and archive-get come
 * from there, and this node's TLS server (DB_PORT) lets the repository host in for backups.
 */
export function dbConfig(env: EnvironmentConfig, node: NodeConfig, offsite = false): string {
  const repo = repoHost(env);
  if (!repo) throw new Error(`environment ${env.name} has no node with role "backup"`);
  const viaRepoHost = (i: number) => [`repo${i}-host=${repo.privateAddress}`, `repo${i}-host-port=${REPO_PORT}`, ...tlsClient(`repo${i}-host`)];
  // with two repositories WAL is pushed asynchronously (spooled beside the data): one repository
  // out of reach must not hold the other back (pgBackRest's advice)
  const asyncPush = offsite ? ['archive-async=y', 'spool-path=/var/lib/postgresql/data/pgbackrest-spool'] : [];
  return [HEAD(env, node, 'a database node'), '[global]', ...COMMON, ...viaRepoHost(1), ...(offsite ? viaRepoHost(2) : []), ...asyncPush,
    ...tlsServer(DB_PORT, [repo]), '', `[${STANZA}]`, `pg1-path=${PATHS.pgdata}`, `pg1-socket-path=${PATHS.socket}`, ''].join('\n');
}

/**
 * The repository host's pgbackrest.conf: the repository, retention, every database node as pgN
 * (reached through its TLS server; backups taken from a standby, the primary asked only to start
 * and stop them), and the repository's own TLS server (REPO_PORT) for the nodes' WAL.
 */
export function repoConfig(env: EnvironmentConfig, offsite?: OffsiteEndpoint): string {
  const settings: BackupSettings = env.backup;
  const repo = repoHost(env);
  if (!repo) throw new Error(`environment ${env.name} has no node with role "backup"`);
  const pg = dbNodes(env).flatMap((n, i) => [`pg${i + 1}-host=${n.privateAddress}`, `pg${i + 1}-host-port=${DB_PORT}`, ...tlsClient(`pg${i + 1}-host`), `pg${i + 1}-path=${PATHS.pgdata}`, `pg${i + 1}-socket-path=${PATHS.socket}`]);
  return [HEAD(env, repo, 'the repository host'), '[global]', ...COMMON, 'process-max=2', `repo1-path=${PATHS.repo}`, `repo1-retention-full=${settings.retentionFull}`,
    ...(offsite ? offsiteRepoLines(env, offsite) : []),
    'start-fast=y', 'backup-standby=y', 'archive-check=y', ...tlsServer(REPO_PORT, dbNodes(env)), '', `[${STANZA}]`, ...pg, ''].join('\n');
}
