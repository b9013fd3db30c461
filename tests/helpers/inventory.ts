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
          node('ash-2', '10.0.0.3', ['etcd', 'patroni', 'haproxy', 'monitoring', 'backup']),
        ],
      },
    },
  };
}

/** An env file as operators must keep it: 0600 (a looser one is a warning in dev, an error in prod). */
export function writeEnvFile(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
}

export function writeInventory(dir: string, doc: unknown, name = 'twincigo.yml'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof doc === 'string' ? doc : stringify(doc));
  return file;
}

/** A complete dev env file (every key every role needs, valid JWTs); `drop` leaves keys out. */
export function completeEnvText(postgresPassword: string, drop: string[] = []): string {
  const jwt = 'Jq4vX9mT2kLp8wRz5nYc3bHf6gDs1aZe7uNi';
  return Object.entries({
    POSTGRES_PASSWORD: postgresPassword, REPLICATION_PASSWORD: 'r-Kq8vT2mZ5xW9pLs', REWIND_PASSWORD: 'w-Hn3cV7bQ1rT6yUe', PATRONI_RESTAPI_PASSWORD: 'p-Zm4kR8sD2fG5hJw',
    PGSODIUM_ROOT_KEY: 'b'.repeat(64), HAPROXY_STATS_PASSWORD: 'h-Lx9cB3nM6qW1eRt', REDIS_PASSWORD: 'x-Yu7iO2pA5sD8fGk', JWT_SECRET: jwt,
    ANON_KEY: signSupabaseKey(jwt, 'anon'), SERVICE_ROLE_KEY: signSupabaseKey(jwt, 'service_role'), DASHBOARD_USERNAME: 'supabase', DASHBOARD_PASSWORD: 'd-Qw2eR5tY8uI1oPz',
    SECRET_KEY_BASE: 'k-Aq1sW3dE5rF7tGy9hU2jI4kO6lP8zX0cVbN', VAULT_ENC_KEY: 'v-Mn8bV6cX4zL2kJ9hG7fD5sA3qW1eR0tY', SITE_URL: 'https://app', API_EXTERNAL_URL: 'https://api',
    BACKEND_IMAGE: 'ghcr.io/twincigo/backend:1.0.0', BACKEND_DB_PASSWORD: 'b-Ty6uI9oP3aS7dF1g', GRAFANA_ADMIN_PASSWORD: 'g-Nb5vC8xZ2lK4jH7g',
    PG_META_CRYPTO_KEY: 'm-Rt5yU8iO1pA4sD7fG0hJ3kL', ENABLE_EMAIL_AUTOCONFIRM: 'true', PGBACKREST_TLS_SEED: 't-Wq3eR6tY9uI2oP5aS8dF1gH4jK7lZ0x',
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
