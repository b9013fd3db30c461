/** lab:up, lab:down, lab:status — composed from images.ts and nodes.ts. */
import { existsSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { CACHE_DIR, LAB_ALERT_RECEIVER, LAB_ENV_FILE, LAB_INVENTORY, LAB_PROD_ENV_FILE, LAB_PROD_HOST, LAB_PROD_INVENTORY, LAB_STATE, PREFIX, REGISTRY, containerName, knownHostsOf, nodesOf, type LabSet } from './config.ts';
import { baseImage, buildImage, pushImage, standInImage, type StandIn } from './images.ts';
import { ensureDockerd, ensureLabKey, ensureNetwork, ensureRegistry, leftovers, removeAll, startNode, waitForNode, writeKnownHosts } from './nodes.ts';
import { writeEnvFile, writeInventory } from './inventory.ts';
import { ensureOffsite, type Offsite } from './offsite.ts';
import { docker, inNode, type Log } from './run.ts';

/** Env keys of the images the stack's compose files read, and the lab image behind each. */
const SERVICE_IMAGES: Record<string, string> = {
  PATRONI_IMAGE: 'patroni',
  ETCD_IMAGE: 'etcd',
  HAPROXY_IMAGE: 'haproxy',
  REDIS_IMAGE: 'redis',
  PROMETHEUS_IMAGE: 'prometheus',
  POSTGRES_EXPORTER_IMAGE: 'postgres-exporter',
  NODE_EXPORTER_IMAGE: 'node-exporter',
  BACKEND_IMAGE: 'backend',
  // no Debian package: stand-ins that read the real configs (log shipping, tests/e2e/logs.test.ts)
  LOKI_IMAGE: 'standin-loki',
  ALLOY_IMAGE: 'standin-alloy',
  // the real pg-meta, from npm (tests/lab/images/meta)
  META_IMAGE: 'meta',
};
/** The prod profile's own services (`lab:up -- --prod`): Debian's Caddy, Alertmanager and blackbox exporter, and MinIO's stand-in. */
const PROD_IMAGES: Record<string, string> = {
  CADDY_IMAGE: 'caddy',
  ALERTMANAGER_IMAGE: 'alertmanager',
  BLACKBOX_EXPORTER_IMAGE: 'blackbox-exporter',
  MINIO_IMAGE: 'standin-minio',
};
/** Stand-ins (no Debian package exists): the port and health path each real service answers on. */
export const STAND_INS: Array<StandIn & { env: string }> = [
  { env: 'KONG_IMAGE', service: 'kong', port: 8000, health: '/auth/v1/health' },
  { env: 'AUTH_IMAGE', service: 'auth', port: 9999, health: '/health' },
  { env: 'REST_IMAGE', service: 'rest', port: 3000, health: '/' },
  { env: 'REALTIME_IMAGE', service: 'realtime', port: 4000, health: '/api/tenants/realtime-dev/health' },
  { env: 'STORAGE_IMAGE', service: 'storage', port: 5000, health: '/status' },
  { env: 'IMGPROXY_IMAGE', service: 'imgproxy', port: 5001, health: '/health' },
  { env: 'STUDIO_IMAGE', service: 'studio', port: 3000, health: '/api/profile' },
  { env: 'GRAFANA_IMAGE', service: 'grafana', port: 3000, health: '/api/health' },
];

async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export interface LabState {
  images: Record<string, string>;
  /** The same images pinned by digest, and the prod profile's (when brought up with --prod). */
  pinned?: Record<string, string>;
  prod?: boolean;
  nodes: Array<{ name: string; ip: string; container: string; roles: string[]; set?: LabSet }>;
  upAt: string;
}

/** Builds what is missing, starts registry + nodes, writes the lab inventory/env; idempotent. */
export async function labUp(log: Log, opts: { prod?: boolean } = {}): Promise<LabState> {
  const step = async <T>(title: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    log(`${title} …`);
    const r = await fn();
    log(`${title}: done in ${((performance.now() - t) / 1000).toFixed(1)}s`);
    return r;
  };
  await step('docker engine', () => ensureDockerd(log));
  const base = await step('base image (debootstrap)', () => baseImage(log));
  const built = await step('lab images', async () => {
    const [node, registry, python] = await pool(['node', 'registry', 'python'], 3, (n) => buildImage(n, base, log));
    const names = [...Object.values(SERVICE_IMAGES), ...(opts.prod ? Object.values(PROD_IMAGES) : [])];
    const service = await pool(names, 3, (n) => buildImage(n, ['patroni', 'backend', 'standin-minio', 'standin-loki', 'standin-alloy'].includes(n) ? python! : base, log));
    const standin = await buildImage('standin', python!, log);
    const offsite = opts.prod ? await buildImage('offsite-s3', python!, log) : undefined;
    const standIns = await pool(STAND_INS, 3, (s) => standInImage(s, standin));
    return { node: node!, registry: registry!, service: Object.fromEntries(names.map((n, i) => [n, service[i]!])), standIns, offsite };
  });
  let offsite: Offsite | undefined;
  await step('network + registry', async () => {
    await ensureNetwork();
    await ensureRegistry(built.registry);
    if (built.offsite) offsite = await ensureOffsite(built.offsite);
  });
  const images: Record<string, string> = {};
  const pinned: Record<string, string> = {};
  await step('push images to the lab registry', async () => {
    const entries = Object.entries({ ...SERVICE_IMAGES, ...(opts.prod ? PROD_IMAGES : {}) });
    const refs = await pool(entries, 2, ([, n]) => pushImage(built.service[n]!));
    entries.forEach(([env], i) => ((images[env] = refs[i]!.ref), (pinned[env] = refs[i]!.pinned)));
    const sRefs = await pool(built.standIns, 2, (t) => pushImage(t));
    STAND_INS.forEach((s, i) => ((images[s.env] = sRefs[i]!.ref), (pinned[s.env] = sRefs[i]!.pinned)));
  });
  const key = ensureLabKey();
  // dev's three nodes, and with --prod lab-prod's own three (the two suites run at once)
  const machines = labMachines(opts.prod ?? false);
  const known = await step(`nodes (sshd + dockerd): ${machines.length}`, async () => {
    await Promise.all(machines.map(({ node, set }) => startNode(node, built.node, key, set)));
    return Promise.all(machines.map(({ node, set }) => waitForNode(node, set)));
  });
  for (const set of new Set(machines.map((m) => m.set))) writeKnownHosts(known.filter((_, i) => machines[i]!.set === set).flat(), set);
  writeInventory('lab');
  // the lab's PostgreSQL is Debian's: of supabase/postgres's preloaded libraries it has pg_cron
  // (the stand-in extensions have no library to load, and there is no supautils)
  const common = { POSTGRES_PRELOAD_LIBRARIES: 'pg_stat_statements,pg_cron' };
  // dev: sign-ups confirmed without mail (there is no SMTP in the dev lab)
  await writeEnvFile({ ...images, ...common, SITE_URL: `http://${nodesOf('dev')[0]!.ip}:8000`, API_EXTERNAL_URL: `http://${nodesOf('dev')[0]!.ip}:8000`, ENABLE_EMAIL_AUTOCONFIRM: 'true' }, 'lab');
  if (opts.prod) {
    writeInventory('lab-prod', offsite && { uriStyle: 'path', caFile: offsite.caFile });
    await writeEnvFile({
      // prod references every image by digest
      ...pinned,
      ...common,
      PUBLIC_HOST: LAB_PROD_HOST,
      SITE_URL: `https://${LAB_PROD_HOST}`,
      API_EXTERNAL_URL: `https://${LAB_PROD_HOST}`,
      // Caddy's own CA in the lab (no ACME offline); real nodes use Let's Encrypt with ACME_EMAIL
      TLS_ISSUER: 'internal',
      ACME_EMAIL: 'ops@twincigo.example',
      MINIO_ROOT_USER: 'twincigo-admin',
      // auth's mail (confirmations): an SMTP relay address on the lab host; nothing is sent in the lab
      SMTP_HOST: LAB_ALERT_RECEIVER.host,
      SMTP_PORT: '2525',
      SMTP_ADMIN_EMAIL: 'auth@twincigo.example',
      // Alertmanager's own JSON, to a receiver the alerting test runs on the lab host
      ALERT_WEBHOOK_URL: `http://${LAB_ALERT_RECEIVER.host}:${LAB_ALERT_RECEIVER.port}${LAB_ALERT_RECEIVER.path}`,
      ALERT_WEBHOOK_KIND: 'webhook',
      // the offsite backup repository: the lab's S3 (its bucket and the key it issued)
      ...(offsite ? { BACKUP_S3_ENDPOINT: offsite.endpoint, BACKUP_S3_BUCKET: offsite.bucket, BACKUP_S3_REGION: offsite.region, BACKUP_S3_ACCESS_KEY: offsite.accessKey, BACKUP_S3_SECRET_KEY: offsite.secretKey } : {}),
    }, 'lab-prod');
  }
  const state: LabState = {
    images,
    pinned,
    prod: opts.prod ?? false,
    nodes: machines.map(({ node: n, set }) => ({ name: n.name, ip: n.ip, container: containerName(n.name, set), roles: n.roles, set })),
    upAt: new Date().toISOString(),
  };
  writeFileSync(LAB_STATE, `${JSON.stringify(state, null, 2)}\n`);
  return state;
}

/** Removes every lab container, network and volume, and the lab inventory/env; --purge also the image cache. */
export async function labDown(log: Log, opts: { purge?: boolean } = {}): Promise<void> {
  if ((await docker(['info'], { reject: false })).exitCode !== 0) {
    log('no Docker engine running: nothing to remove');
  } else {
    await removeAll(log);
    if (opts.purge) {
      const imgs = (await docker(['images', '-q', '--filter', `reference=${PREFIX}/*`])).stdout.split('\n').filter(Boolean);
      if (imgs.length > 0) await docker(['rmi', '-f', ...new Set(imgs)], { reject: false });
    }
  }
  for (const f of [LAB_INVENTORY, LAB_ENV_FILE, LAB_PROD_INVENTORY, LAB_PROD_ENV_FILE, knownHostsOf('dev'), knownHostsOf('prod'), LAB_STATE]) rmSync(f, { force: true });
  if (opts.purge) rmSync(CACHE_DIR, { recursive: true, force: true });
  const left = await leftovers().catch(() => ({ containers: [], networks: [], volumes: [] }));
  const all = [...left.containers, ...left.networks, ...left.volumes];
  if (all.length > 0) throw new Error(`lab:down left behind: ${all.join(', ')}`);
}

export interface NodeStatus {
  name: string;
  ip: string;
  container: string;
  state: string;
  dockerd: boolean;
  containers: string[];
}

export async function labStatus(): Promise<{ up: boolean; registry: string; nodes: NodeStatus[] }> {
  const state = async (c: string) => (await docker(['inspect', '-f', '{{.State.Status}}', c], { reject: false })).stdout.trim() || 'absent';
  const nodes = await Promise.all(
    labMachines(readState()?.prod ?? false).map(async ({ node: n, set }) => {
      const container = containerName(n.name, set);
      const s = await state(container);
      const ps = s === 'running' ? await inNode(container, ['docker', 'ps', '--format', '{{.Names}} {{.Status}}'], { reject: false }) : undefined;
      return { name: n.name, ip: n.ip, container, state: s, dockerd: ps?.exitCode === 0, containers: ps?.exitCode === 0 ? ps.stdout.split('\n').filter(Boolean) : [] };
    }),
  );
  const registry = await state(REGISTRY.container);
  const up = existsSync(LAB_STATE) && registry === 'running' && nodes.every((n) => n.state === 'running' && n.dockerd);
  return { up, registry, nodes };
}

/** The lab's node machines: dev's set, and prod's with the prod profile. */
export const labMachines = (prod: boolean) => (['dev', ...(prod ? ['prod'] : [])] as LabSet[]).flatMap((set) => nodesOf(set).map((node) => ({ node, set })));

export function readState(): LabState | undefined {
  return existsSync(LAB_STATE) ? (JSON.parse(readFileSync(LAB_STATE, 'utf8')) as LabState) : undefined;
}
