import { readFileSync } from 'node:fs';
import type { EnvironmentConfig } from '../config/model.js';
import { UsageError } from '../errors.js';

/**
 * prod's second repository (repo2): an S3 bucket away from the cluster (MinIO elsewhere, Wasabi,
 * Backblaze, Bunny …), written by the repository host — for its backups and for the WAL the
 * database nodes push through it, so no database node holds the bucket's keys — and encrypted by
 * pgBackRest (aes-256-cbc, PGBACKREST_REPO2_CIPHER_PASS) before it leaves the node. The keys and
 * the cipher pass reach pgBackRest as its own environment variables (compose/prod/backup.yml),
 * never in a config file.
 */
export interface OffsiteEndpoint {
  host: string;
  port: number | undefined;
  bucket: string;
  region: string;
}

/** Where the CA for a self-hosted S3 is, in the repository host's containers (mounted config, not secret). */
export const OFFSITE_CA = '/etc/twincigo/pgbackrest/tls/s3-ca.crt';

/** The endpoint from the env file (BACKUP_S3_ENDPOINT host[:port], bucket, region); undefined without an offsite repository. */
export function offsiteEndpoint(env: EnvironmentConfig, v: Record<string, string | undefined>): OffsiteEndpoint | undefined {
  if (!env.backup.offsite || !v.BACKUP_S3_ENDPOINT || !v.BACKUP_S3_BUCKET) return undefined;
  const m = /^(?:https:\/\/)?([^:/]+)(?::(\d+))?\/?$/.exec(v.BACKUP_S3_ENDPOINT.trim());
  if (!m) throw new Error(`BACKUP_S3_ENDPOINT must be host[:port], not ${v.BACKUP_S3_ENDPOINT}`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : undefined, bucket: v.BACKUP_S3_BUCKET, region: v.BACKUP_S3_REGION || 'us-east-1' };
}

/** The repository host's lines for repo2. */
export function offsiteRepoLines(env: EnvironmentConfig, ep: OffsiteEndpoint): string[] {
  const o = env.backup.offsite!;
  return [
    'repo2-type=s3',
    `repo2-path=/twincigo/${env.name}`,
    `repo2-s3-endpoint=${ep.host}`,
    ...(ep.port ? [`repo2-storage-port=${ep.port}`] : []),
    `repo2-s3-bucket=${ep.bucket}`,
    `repo2-s3-region=${ep.region}`,
    `repo2-s3-uri-style=${o.uriStyle}`,
    ...(o.caFile ? [`repo2-storage-ca-file=${OFFSITE_CA}`] : []),
    'repo2-cipher-type=aes-256-cbc',
    `repo2-retention-full=${o.retentionFull}`,
  ];
}

/** The CA file the inventory names (backup.offsite.caFile), read for the repository host. */
export function readCa(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`backup.offsite.caFile: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ['the path is relative to twincigo.yml']);
  }
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(text)) throw new UsageError(`backup.offsite.caFile: ${path} is not a PEM certificate`);
  return text;
}
