import type { Profile, Role } from './roles.js';

export interface EnvKey {
  key: string;
  /** Secret values are redacted in every output. */
  secret: boolean;
  /** What it is for, shown when it is missing. */
  about: string;
  /** Only needed in these profiles (default: all). */
  profiles?: Profile[];
  /** Used by the renderer only (what it derives goes to the nodes), never written to a node's .env. */
  operatorOnly?: boolean;
  /** A credential someone else issues (a provider's access key): never generated, filled in by hand. */
  issued?: boolean;
}

const secret = (key: string, about: string, profiles?: Profile[]): EnvKey => ({ key, secret: true, about, profiles });
const setting = (key: string, about: string, profiles?: Profile[]): EnvKey => ({ key, secret: false, about, profiles });

/** pgBackRest's TLS: the CA and every node's certificate are derived from it at render time. */
const TLS_SEED: EnvKey = { key: 'PGBACKREST_TLS_SEED', secret: true, about: "the secret pgBackRest's TLS CA and every node's certificate are derived from (stays with the operator)", operatorOnly: true };

/** The one place that says which env keys each role needs. */
export const ENV_KEYS: Record<Role, EnvKey[]> = {
  etcd: [],
  patroni: [
    secret('POSTGRES_PASSWORD', 'PostgreSQL superuser password'),
    secret('REPLICATION_PASSWORD', 'password of the replication user'),
    secret('REWIND_PASSWORD', 'password of the pg_rewind user'),
    secret('PATRONI_RESTAPI_PASSWORD', 'basic-auth password of the Patroni REST API (8008)'),
    secret('PGSODIUM_ROOT_KEY', 'pgsodium/vault root key, identical on every node'),
  ],
  haproxy: [secret('HAPROXY_STATS_PASSWORD', 'password of the HAProxy stats page')],
  redis: [secret('REDIS_PASSWORD', 'Redis requirepass')],
  supabase: [
    secret('POSTGRES_PASSWORD', 'PostgreSQL superuser password'),
    secret('JWT_SECRET', 'HS256 secret for Supabase JWTs (at least 32 characters)'),
    secret('ANON_KEY', 'anon JWT signed with JWT_SECRET'),
    secret('SERVICE_ROLE_KEY', 'service_role JWT signed with JWT_SECRET'),
    setting('DASHBOARD_USERNAME', 'Supabase studio login'),
    secret('DASHBOARD_PASSWORD', 'Supabase studio password'),
    secret('SECRET_KEY_BASE', 'realtime secret key base'),
    secret('VAULT_ENC_KEY', 'vault encryption key'),
    secret('PG_META_CRYPTO_KEY', "pg-meta's and Studio's key for the connection strings they keep"),
    setting('SITE_URL', 'public URL of the app'),
    setting('API_EXTERNAL_URL', 'public URL of the Supabase API'),
    setting('ACME_EMAIL', "the address Let's Encrypt writes to about the edge's certificates (Caddy)", ['prod']),
    secret('STORAGE_S3_ACCESS_KEY', "Supabase storage's own S3 access key (MinIO user with readwrite, not root; or the offsite S3's)", ['prod']),
    secret('STORAGE_S3_SECRET_KEY', "Supabase storage's own S3 secret key", ['prod']),
  ],
  storage: [
    setting('MINIO_ROOT_USER', 'MinIO root user (administration only; storage has its own key)', ['prod']),
    secret('MINIO_ROOT_PASSWORD', 'MinIO root password', ['prod']),
    secret('STORAGE_S3_ACCESS_KEY', "Supabase storage's own S3 access key (MinIO user with readwrite, not root; or the offsite S3's)", ['prod']),
    secret('STORAGE_S3_SECRET_KEY', "Supabase storage's own S3 secret key", ['prod']),
  ],
  backend: [
    setting('BACKEND_IMAGE', 'FastAPI backend image (from the app team), pinned to a version'),
    secret('BACKEND_DB_PASSWORD', 'password of the backend database role'),
    secret('REDIS_PASSWORD', 'Redis requirepass'),
    secret('JWT_SECRET', 'HS256 secret for Supabase JWTs (at least 32 characters)'),
  ],
  monitoring: [secret('GRAFANA_ADMIN_PASSWORD', 'Grafana admin password')],
  logs: [],
  backup: [
    TLS_SEED,
    // prod's offsite repository (repo2): on the repository host only, which writes it for every node
    setting('BACKUP_S3_ENDPOINT', "the offsite S3 endpoint of the second backup repository, host[:port] (e.g. s3.eu-central-003.backblazeb2.com); HTTPS", ['prod']),
    setting('BACKUP_S3_BUCKET', 'the offsite bucket the backups go to (under /twincigo/<environment>)', ['prod']),
    setting('BACKUP_S3_REGION', "the offsite bucket's region (e.g. eu-central-1; MinIO: us-east-1)", ['prod']),
    { ...secret('BACKUP_S3_ACCESS_KEY', "the offsite bucket's access key (read/write on that bucket only), from the S3 provider", ['prod']), issued: true },
    { ...secret('BACKUP_S3_SECRET_KEY', "the offsite bucket's secret key, from the S3 provider", ['prod']), issued: true },
    secret('PGBACKREST_REPO2_CIPHER_PASS', 'encrypts the offsite repository (aes-256-cbc): keep a copy away from the cluster — without it the offsite backups cannot be read', ['prod']),
  ],
  archive: [TLS_SEED],
};

/** Keys not declared above are still treated as secret when their name says so. */
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|PASSPHRASE|PRIVATE|_KEY|^KEY)$/i;

/** Optional values that are secrets all the same: a webhook URL is its own credential. */
export const OPTIONAL_SECRETS = ['ALERT_WEBHOOK_URL', 'ALERT_SMTP_PASSWORD', 'SMTP_PASS'] as const;

export function isSecretKey(key: string): boolean {
  if ((OPTIONAL_SECRETS as readonly string[]).includes(key)) return true;
  for (const keys of Object.values(ENV_KEYS)) {
    const found = keys.find((k) => k.key === key);
    if (found) return found.secret;
  }
  return SECRET_NAME.test(key);
}

/** The keys a set of roles needs in a profile, each once, with the roles that need it. */
export function keysFor(roles: readonly Role[], profile: Profile): Map<string, { spec: EnvKey; roles: Role[] }> {
  const out = new Map<string, { spec: EnvKey; roles: Role[] }>();
  for (const role of roles) {
    for (const spec of ENV_KEYS[role]) {
      if (spec.profiles && !spec.profiles.includes(profile)) continue;
      const entry = out.get(spec.key) ?? { spec, roles: [] };
      entry.roles.push(role);
      out.set(spec.key, entry);
    }
  }
  return out;
}

/**
 * Settings an env file may set beyond ENV_KEYS: optional values the compose files and renderers
 * read (a unit test checks every `${VAR}` of compose/ is known). Anything else is a typo until
 * proven otherwise: `env check` and every command refuse it with a "did you mean".
 */
export const OPTIONAL_SETTINGS = [
  'ADDITIONAL_REDIRECT_URLS', 'BACKEND_LOG_LEVEL', 'BACKEND_PORT', 'DISABLE_SIGNUP', 'ENABLE_EMAIL_AUTOCONFIRM',
  'ENABLE_EMAIL_SIGNUP', 'ENABLE_ANONYMOUS_USERS', 'ETCD_SCHEME', 'GRAFANA_PORT', 'JWT_EXPIRY', 'KONG_HTTP_PORT', 'PGRST_DB_SCHEMAS', 'POSTGRES_PRELOAD_LIBRARIES',
  'SMTP_ADMIN_EMAIL', 'SMTP_HOST', 'SMTP_PORT', 'SMTP_USER', 'SMTP_SENDER_NAME', 'MAILER_URLPATHS_INVITE', 'MAILER_URLPATHS_CONFIRMATION',
  'MAILER_URLPATHS_RECOVERY', 'MAILER_URLPATHS_EMAIL_CHANGE', 'PGRST_DB_MAX_ROWS', 'PGRST_DB_EXTRA_SEARCH_PATH',
  'ALERT_WEBHOOK_KIND', 'ALERT_EMAIL_TO', 'ALERT_SMTP_FROM', 'ALERT_SMTP_SMARTHOST', 'ALERT_SMTP_USERNAME',
  'PUBLIC_HOST', 'REDIS_HOST', 'STORAGE_BACKEND', 'STORAGE_REGION', 'STORAGE_S3_BUCKET', 'STORAGE_S3_ENDPOINT', 'STORAGE_S3_PROTOCOL', 'TLS_ISSUER',
  // image references (pinned): one per service
  'ALERTMANAGER_IMAGE', 'ALLOY_IMAGE', 'AUTH_IMAGE', 'BLACKBOX_EXPORTER_IMAGE', 'CADDY_IMAGE', 'ETCD_IMAGE', 'GRAFANA_IMAGE', 'HAPROXY_IMAGE', 'IMGPROXY_IMAGE', 'KONG_IMAGE',
  'LOKI_IMAGE', 'META_IMAGE', 'MINIO_IMAGE', 'NODE_EXPORTER_IMAGE', 'PATRONI_IMAGE', 'POSTGRES_EXPORTER_IMAGE', 'PROMETHEUS_IMAGE',
  'REALTIME_IMAGE', 'REDIS_IMAGE', 'REST_IMAGE', 'STORAGE_IMAGE', 'STUDIO_IMAGE', 'PATRONI_VERSION', 'SUPABASE_POSTGRES',
] as const;

/** Keys twincigo writes into each node's .env from the inventory: an env file may not set them. */
export const RENDERED_KEYS = [
  'COMPOSE_PROJECT_NAME', 'NODE_NAME', 'NODE_IP', 'ETCD_INITIAL_CLUSTER', 'ETCD_INITIAL_CLUSTER_STATE', 'ETCD_CLUSTER_TOKEN',
  'ETCD_HEARTBEAT_MS', 'ETCD_ELECTION_MS', 'BACKEND_UPSTREAM',
] as const;

/** Every key an env file may hold. */
export const KNOWN_KEYS: ReadonlySet<string> = new Set([...Object.values(ENV_KEYS).flat().map((k) => k.key), ...OPTIONAL_SETTINGS, ...OPTIONAL_SECRETS]);
