import { FAILOVER_MAX_LAG } from '../cluster/patroni.js';
import { stringify } from 'yaml';
import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { PATRONI_TIMINGS } from './timings.js';
import { STANZA } from '../backup/pgbackrest-config.js';
import { cloneMethods } from './clone-config.js';

/** supabase/postgres preloads these; an image without them (the lab's) sets POSTGRES_PRELOAD_LIBRARIES. */
export const SUPABASE_PRELOAD =
  'pg_stat_statements,pgaudit,plpgsql,plpgsql_check,pg_cron,pg_net,pgsodium,timescaledb,auto_explain,pg_tle,plan_filter,supabase_vault';

/**
 * patroni.yml for one node. It holds no secret: the passwords reach Patroni as PATRONI_* environment
 * variables from the node's .env. pg_hba admits only the cluster's addresses (replication and
 * clients: HAProxy connects from the nodes' own addresses).
 */
/** Patroni's cluster name (its keys in etcd live under /service/<scope>/). */
export const patroniScope = (env: { name: string }) => `twincigo-${env.name}`;

/** The Patroni container's memory limit per profile (compose/patroni.yml, compose/prod/patroni.yml): a unit test keeps them equal. */
export const PATRONI_MEMORY_MIB = { dev: 2560, prod: 16384 } as const;

/**
 * PostgreSQL's memory inside the container's limit: shared_buffers a quarter of it (PostgreSQL's
 * own advice), effective_cache_size the three quarters the OS page cache and buffers can hold —
 * never more than the container may use.
 */
export function memoryParameters(limitMiB: number): { shared_buffers: string; effective_cache_size: string } {
  return { shared_buffers: `${Math.floor(limitMiB / 4)}MB`, effective_cache_size: `${Math.floor((limitMiB * 3) / 4)}MB` };
}

export function patroniConfig(env: EnvironmentConfig, node: NodeConfig, settings: Record<string, string | undefined>, memoryMiB: number = PATRONI_MEMORY_MIB[env.profile]): string {
  const members = env.nodes.filter((n) => n.roles.includes('patroni'));
  const etcd = env.nodes.filter((n) => n.roles.includes('etcd')).map((n) => `${n.privateAddress}:2379`);
  const prod = env.profile === 'prod';
  const cidr = (a: string) => (a.includes(':') ? `${a}/128` : `${a}/32`);
  const hba = [
    'local all all peer',
    'host all all 127.0.0.1/32 scram-sha-256',
    'host replication replicator 127.0.0.1/32 scram-sha-256',
    ...members.map((m) => `host replication replicator ${cidr(m.privateAddress)} scram-sha-256`),
    ...members.map((m) => `host all all ${cidr(m.privateAddress)} scram-sha-256`),
  ];
  const preload = settings.POSTGRES_PRELOAD_LIBRARIES || SUPABASE_PRELOAD;
  const parameters: Record<string, string | number> = {
    wal_level: 'logical', // Supabase realtime uses logical decoding
    wal_log_hints: 'on', // pg_rewind
    max_wal_senders: 10,
    max_replication_slots: 10,
    hot_standby: 'on',
    wal_keep_size: '512MB',
    // A replica whose primary died retries streaming every wal_retrieve_retry_interval; a promote
    // request that lands in that sleep waited for its end (5 s by default) — measured in the lab.
    wal_retrieve_retry_interval: '1s',
    max_connections: prod ? 300 : 150,
    ...memoryParameters(memoryMiB),
    password_encryption: 'scram-sha-256',
    shared_preload_libraries: preload,
  };
  // what supabase/postgres's own postgresql.conf sets (Patroni writes its own): the root key's
  // script for pgsodium and vault (one key on every node), and supautils in every session
  const libs = preload.split(',');
  if (libs.includes('pgsodium')) parameters['pgsodium.getkey_script'] = '/usr/local/bin/pgsodium-getkey';
  if (libs.includes('supabase_vault')) parameters['vault.getkey_script'] = '/usr/local/bin/pgsodium-getkey';
  if (!settings.POSTGRES_PRELOAD_LIBRARIES) parameters.session_preload_libraries = 'supautils';
  const backups = env.nodes.some((n) => n.roles.includes('backup'));
  if (backups) {
    // continuous archiving to the repository host from whichever member leads (Patroni keeps the
    // setting on every member; only a primary archives); a segment at least every minute
    Object.assign(parameters, { archive_mode: 'on', archive_command: `pgbackrest --stanza=${STANZA} archive-push %p`, archive_timeout: 60 });
  }
  for (const [k, v] of Object.entries(env.postgresParameters ?? {})) parameters[k] = typeof v === 'boolean' ? (v ? 'on' : 'off') : v;
  const doc = {
    scope: patroniScope(env),
    namespace: '/service/',
    name: node.name,
    restapi: {
      listen: '0.0.0.0:8008', // the firewall admits only the peers; the container health check uses loopback
      connect_address: `${node.privateAddress}:8008`,
    },
    etcd3: { hosts: etcd },
    bootstrap: {
      dcs: {
        ...PATRONI_TIMINGS,
        maximum_lag_on_failover: FAILOVER_MAX_LAG,
        synchronous_mode: env.synchronous,
        // losing the synchronous standby must not stop writes: Patroni falls back to asynchronous
        ...(env.synchronous ? { synchronous_mode_strict: false } : {}),
        failsafe_mode: true,
        postgresql: { use_pg_rewind: true, use_slots: true, parameters },
      },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'data-checksums'],
    },
    postgresql: {
      listen: `${node.privateAddress},127.0.0.1:5432`,
      connect_address: `${node.privateAddress}:5432`,
      data_dir: '/var/lib/postgresql/data/pgdata',
      pgpass: '/tmp/pgpass',
      pg_hba: hba,
      parameters: { unix_socket_directories: '/var/run/postgresql' },
      // a new replica from the latest backup when there is a repository, else (or when that fails) from the leader
      ...(backups ? cloneMethods() : {}),
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: node.nosync },
  };
  return `# Rendered by twincigo for ${node.name}; do not edit on the node. Secrets come from the environment.\n${stringify(doc)}`;
}
