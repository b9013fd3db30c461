import { execIn } from './compose.js';
import type { Command } from './shell.js';

/** The policy storage's key gets: everything on its bucket, nothing else. */
export const STORAGE_POLICY = 'twincigo-storage';

/**
 * Inside the MinIO container (whose environment holds the root user and storage's key, from the
 * node's 0600 .env): the bucket, a policy limited to it, storage's own user with that policy.
 * Idempotent; the root credentials reach mc through MC_HOST_ (not an argument). Prints what it did.
 */
const SCRIPT = [
  'set -e',
  // generated credentials are URL-safe (base64url), as MC_HOST_ needs them
  'export MC_HOST_twincigo="http://$MINIO_ROOT_USER:$MINIO_ROOT_PASSWORD@127.0.0.1:9000"',
  'b="$STORAGE_S3_BUCKET"; p=/tmp/twincigo-storage-policy.json',
  'mc mb --ignore-existing "twincigo/$b" >/dev/null',
  'printf \'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/*"]}]}\' "$b" "$b" > "$p"',
  `mc admin policy create twincigo ${STORAGE_POLICY} "$p" >/dev/null; rm -f "$p"`,
  'mc admin user add twincigo "$STORAGE_S3_ACCESS_KEY" "$STORAGE_S3_SECRET_KEY" >/dev/null',
  `mc admin user info twincigo "$STORAGE_S3_ACCESS_KEY" | grep -q "${STORAGE_POLICY}" || mc admin policy attach twincigo ${STORAGE_POLICY} --user "$STORAGE_S3_ACCESS_KEY" >/dev/null`,
  `echo "bucket $b; storage's own key limited to it (${STORAGE_POLICY})"`,
].join('\n');

export const minioSetupCommand = (): Command => execIn('minio', ['sh', '-c', SCRIPT]);
