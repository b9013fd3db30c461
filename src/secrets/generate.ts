import { randomBytes } from 'node:crypto';

/** How each secret is generated: its shape is what the consuming service expects. */
export const GENERATORS: Record<string, () => string> = {
  JWT_SECRET: () => randomBytes(32).toString('base64url'), // 43 characters
  PGSODIUM_ROOT_KEY: () => randomBytes(32).toString('hex'), // 64 hex characters, as pgsodium wants
  VAULT_ENC_KEY: () => randomBytes(16).toString('hex'), // 32 characters
  SECRET_KEY_BASE: () => randomBytes(48).toString('base64url'), // 64 characters
  STORAGE_S3_ACCESS_KEY: () => randomBytes(10).toString('hex'), // 20 characters: MinIO's longest access key
  PGBACKREST_TLS_SEED: () => randomBytes(32).toString('base64url'),
  PGBACKREST_REPO2_CIPHER_PASS: () => randomBytes(48).toString('base64url'), // 64 characters
};

/** A password: 32 URL-safe characters (192 bits), safe in URLs, YAML and shell without quoting. */
export const password = () => randomBytes(24).toString('base64url');

export function generate(key: string): string {
  return (GENERATORS[key] ?? password)();
}

/** Values that are clearly not real: what example files and tutorials leave behind. */
export const PLACEHOLDER = /^(|changeme|change[-_ ]?me|password|secret|example|todo|xxx+|your[-_].*|.*super-secret-jwt-token.*|<.*>)$/i;
