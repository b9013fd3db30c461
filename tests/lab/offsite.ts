/**
 * The lab's offsite S3 for prod's second backup repository: moto's S3 server (Debian's
 * python3-moto) over HTTPS, its certificate from a lab CA made here with openssl (the lab-prod
 * inventory's backup.offsite.caFile). The bucket, an IAM user with a policy for that bucket only,
 * and its access key are made for the lab-prod env file. moto does NOT check the keys here: its
 * signature check (INITIAL_NO_AUTH_ACTION_COUNT) refuses every signed request with a query string
 * — measured: boto3's own ListObjectsV2 gets SignatureDoesNotMatch (it rebuilds the canonical
 * query from the decoded URL) — so it stays off, and the keys' correctness is not proven by the
 * lab. moto keeps everything in memory: a new container is a new bucket and a new key (written to
 * the lab-prod env file; bootstrap creates the stanza again).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { LABEL, NETWORK, OFFSITE_S3 } from './config.ts';
import { docker, sh, waitFor } from './run.ts';

export interface Offsite {
  endpoint: string;
  bucket: string;
  region: string;
  accessKey: string;
  secretKey: string;
  caFile: string;
}

const KEYS = `${OFFSITE_S3.dir}/keys.json`;
const CA = `${OFFSITE_S3.dir}/ca.crt`;

/** The lab CA and the server's certificate (CN and SAN: its address), once. */
async function certificates(): Promise<void> {
  if (existsSync(`${OFFSITE_S3.dir}/s3.crt`)) return;
  mkdirSync(OFFSITE_S3.dir, { recursive: true });
  const d = OFFSITE_S3.dir;
  await sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650', '-subj', '/CN=twincigo lab offsite CA', '-keyout', `${d}/ca.key`, '-out', CA]);
  await sh('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${OFFSITE_S3.ip}`, '-keyout', `${d}/s3.key`, '-out', `${d}/s3.csr`]);
  writeFileSync(`${d}/san.ext`, `subjectAltName=IP:${OFFSITE_S3.ip},DNS:${OFFSITE_S3.ip}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  await sh('openssl', ['x509', '-req', '-in', `${d}/s3.csr`, '-CA', CA, '-CAkey', `${d}/ca.key`, '-CAcreateserial', '-days', '3650', '-extfile', `${d}/san.ext`, '-out', `${d}/s3.crt`]);
}

/** Inside the container: bucket, user, policy, key. Prints the key as JSON. */
const SETUP = `
import json, boto3
kw = dict(endpoint_url='http://127.0.0.1:5000', verify=False, region_name='${OFFSITE_S3.region}', aws_access_key_id='setup', aws_secret_access_key='setup')
boto3.client('s3', **kw).create_bucket(Bucket='${OFFSITE_S3.bucket}')
iam = boto3.client('iam', **kw)
iam.create_user(UserName='pgbackrest')
policy = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 's3:*', 'Resource': ['arn:aws:s3:::${OFFSITE_S3.bucket}', 'arn:aws:s3:::${OFFSITE_S3.bucket}/*']}]}
iam.put_user_policy(UserName='pgbackrest', PolicyName='backups', PolicyDocument=json.dumps(policy))
key = iam.create_access_key(UserName='pgbackrest')['AccessKey']
print(json.dumps({'accessKey': key['AccessKeyId'], 'secretKey': key['SecretAccessKey']}))
`;

async function running(): Promise<boolean> {
  return (await docker(['inspect', '-f', '{{.State.Running}}', OFFSITE_S3.container], { reject: false })).stdout.trim() === 'true';
}

/** Starts the offsite S3 unless it runs (then its bucket and key are the ones kept). */
export async function ensureOffsite(image: string): Promise<Offsite> {
  await certificates();
  const current = (await docker(['inspect', '-f', '{{.Config.Image}}', OFFSITE_S3.container], { reject: false })).stdout.trim();
  if (!(current === image && (await running()) && existsSync(KEYS))) {
    await docker(['rm', '-f', OFFSITE_S3.container], { reject: false });
    await docker(['run', '-d', '--name', OFFSITE_S3.container, '--label', LABEL, '--network', NETWORK.name, '--ip', OFFSITE_S3.ip, '-v', `${OFFSITE_S3.dir}:/certs:ro`, image]);
    await waitFor('the offsite S3', async () => (await docker(['exec', OFFSITE_S3.container, 'python3', '-c', "import socket; socket.create_connection(('127.0.0.1', 443), 1); socket.create_connection(('127.0.0.1', 5000), 1)"], { reject: false })).exitCode === 0, 30_000, 300);
    const out = await docker(['exec', OFFSITE_S3.container, 'python3', '-c', SETUP]);
    writeFileSync(KEYS, out.stdout.trim().split('\n').at(-1)!, { mode: 0o600 });
  }
  const keys = JSON.parse(readFileSync(KEYS, 'utf8')) as { accessKey: string; secretKey: string };
  return { endpoint: `${OFFSITE_S3.ip}:443`, bucket: OFFSITE_S3.bucket, region: OFFSITE_S3.region, ...keys, caFile: CA };
}

/** Everything in the bucket removed: a cluster made from bare nodes finds no other cluster's stanza there. */
export async function emptyOffsite(): Promise<void> {
  if (!(await running())) return;
  await docker(['exec', OFFSITE_S3.container, 'python3', '-c', `
import boto3
s3 = boto3.resource('s3', endpoint_url='http://127.0.0.1:5000', region_name='${OFFSITE_S3.region}', aws_access_key_id='lab', aws_secret_access_key='lab')
s3.Bucket('${OFFSITE_S3.bucket}').objects.all().delete()`]);
}
