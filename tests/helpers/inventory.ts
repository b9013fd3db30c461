import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { signSupabaseKey } from '../../src/secrets/jwt.js';

/** A valid three-node inventory document, for tests to break on purpose. */
export function validInventory(): Record<string, any> {
  const node = (name: string, host: string, roles: string[]) => ({ name, host, roles });
  return {
    version: 1,
    environments: {
      dev: {
        nodes: [
          node('hil-1', '10.0.0.1', ['etcd', 'patroni', 'haproxy', 'supabase', 'storage']),
          node('ash-1', '10.0.0.2', ['etcd', 'patroni', 'haproxy', 'backend', 'redis']),
          node('ash-2', '10.0.0.3', ['etcd', 'patroni', 'haproxy', 'monitoring']),
        ],
      },
    },
  };
}

export function writeInventory(dir: string, doc: unknown, name = 'twincigo.yml'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof doc === 'string' ? doc : stringify(doc));
  return file;
}

/** A complete dev env file (every key every role needs, valid JWTs); `drop` leaves keys out. */
export function completeEnvText(postgresPassword: string, drop: string[] = []): string {
  const jwt = 'j'.repeat(40);
  return Object.entries({
    POSTGRES_PASSWORD: postgresPassword, REPLICATION_PASSWORD: 'r-secret-123456', REWIND_PASSWORD: 'w-secret-123456', PATRONI_RESTAPI_PASSWORD: 'p-secret-123456',
    PGSODIUM_ROOT_KEY: 'b'.repeat(64), HAPROXY_STATS_PASSWORD: 'h-secret-123456', REDIS_PASSWORD: 'x-secret-123456', JWT_SECRET: jwt,
    ANON_KEY: signSupabaseKey(jwt, 'anon'), SERVICE_ROLE_KEY: signSupabaseKey(jwt, 'service_role'), DASHBOARD_USERNAME: 'supabase', DASHBOARD_PASSWORD: 'd-secret-123456',
    SECRET_KEY_BASE: 'k-secret-123456', VAULT_ENC_KEY: 'v-secret-123456', SITE_URL: 'https://app', API_EXTERNAL_URL: 'https://api',
    BACKEND_IMAGE: 'ghcr.io/twincigo/backend:1.0.0', BACKEND_DB_PASSWORD: 'b-secret-123456', GRAFANA_ADMIN_PASSWORD: 'g-secret-123456',
  })
    .filter(([k]) => !drop.includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

/**
 * An inventory in dir whose nodes point at 127.0.0.x port 1, where nothing listens: a command that
 * tried to connect fails and says so. With its own SSH identity; `prod` is a copy of `dev`.
 */
export function unreachableInventory(dir: string): Record<string, any> {
  const doc = validInventory();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
  doc.ssh = { port: 1, connectTimeout: 3, config: false, knownHosts: 'known_hosts', identity: 'id' };
  doc.environments.dev.nodes.forEach((n: { host: string }, i: number) => (n.host = `127.0.0.${i + 1}`));
  doc.environments.prod = { ...structuredClone(doc.environments.dev), profile: 'dev', envFile: 'env/.env.dev' };
  return doc;
}
