/**
 * The lab's fixed layout: three node containers on a dedicated bridge network with fixed
 * addresses, the roles of the dev design, and a registry the nodes pull the lab images from.
 */
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const LAB_DIR = `${REPO}.lab`;
export const CACHE_DIR = `${LAB_DIR}/cache`;
export const IMAGES_DIR = fileURLToPath(new URL('./images', import.meta.url));

/** Everything the lab creates carries this label; lab:down removes what has it. */
export const LABEL = 'io.twincigo.lab';
export const PREFIX = 'twincigo-lab';
export const NETWORK = { name: 'twincigo-lab', subnet: '172.28.77.0/24', gateway: '172.28.77.1' };
export const REGISTRY = {
  container: 'twincigo-lab-registry',
  ip: '172.28.77.2',
  port: 5000,
  /** The host pushes through a loopback port: dockerd trusts 127.0.0.0/8 without TLS. */
  hostPort: 15000,
};
/** prod's offsite backup repository in the lab: an S3 server (HTTPS, the lab's own CA) on the lab network, not on a node. */
export const OFFSITE_S3 = { container: 'twincigo-lab-offsite-s3', ip: '172.28.77.20', bucket: 'twincigo-backups', region: 'us-east-1', dir: `${CACHE_DIR}/offsite-s3` };
/** How the nodes name lab images: pulled from the lab registry. */
export const NODE_REGISTRY = `${REGISTRY.ip}:${REGISTRY.port}`;

export interface LabNode {
  name: string;
  ip: string;
  roles: string[];
}
/** The roles of the dev design (lab-prod puts the app tier on the first two: tests/lab/inventory.ts). */
const ROLES: Array<[name: string, roles: string[]]> = [
  ['lab-hil-1', ['etcd', 'patroni', 'haproxy', 'supabase', 'storage']],
  ['lab-ash-1', ['etcd', 'patroni', 'haproxy', 'backend', 'redis']],
  ['lab-ash-2', ['etcd', 'patroni', 'haproxy', 'monitoring', 'backup']],
];
/**
 * Two sets of the same three nodes, each its own containers and addresses: `dev` runs environment
 * lab, `prod` environment lab-prod — so the dev and the prod e2e suites run at the same time.
 */
export type LabSet = 'dev' | 'prod';
const SETS: Record<LabSet, { prefix: string; ips: string[]; spares: string[] }> = {
  dev: { prefix: PREFIX, ips: ['172.28.77.11', '172.28.77.12', '172.28.77.13'], spares: ['172.28.77.21', '172.28.77.22', '172.28.77.23'] },
  prod: { prefix: `${PREFIX}-prod`, ips: ['172.28.77.31', '172.28.77.32', '172.28.77.33'], spares: ['172.28.77.41', '172.28.77.42', '172.28.77.43'] },
};
export const nodesOf = (set: LabSet): LabNode[] => ROLES.map(([name, roles], i) => ({ name, ip: SETS[set].ips[i]!, roles }));
/** The set this process works on: TWINCIGO_LAB_SET=prod for the prod suite and the prod benchmarks, else dev. */
export const LAB_SET: LabSet = process.env.TWINCIGO_LAB_SET === 'prod' ? 'prod' : 'dev';
export const NODES: LabNode[] = nodesOf(LAB_SET);
/** Addresses the lab hands to replacement machines of this set (tests/lab/machines.ts). */
export const SPARE_IPS: readonly string[] = SETS[LAB_SET].spares;
export const containerName = (node: string, set: LabSet = LAB_SET) => `${SETS[set].prefix}-${node.replace(/^lab-/, '')}`;
export const volumeName = (node: string, set: LabSet = LAB_SET) => `${containerName(node, set)}-docker`;

export const LAB_KEY = `${LAB_DIR}/id_ed25519`;
/**
 * Each node set's own known_hosts: the dev and prod suites run at once and each replaces machines
 * (new host keys) — one shared file rewritten by both lost the other's lines.
 */
export const knownHostsOf = (set: LabSet) => `${LAB_DIR}/known_hosts${set === 'prod' ? '.prod' : ''}`;
export const LAB_KNOWN_HOSTS = knownHostsOf(LAB_SET);
export const LAB_INVENTORY = `${REPO}twincigo.lab.yml`;
export const LAB_ENV_FILE = `${REPO}env/.env.lab`;
/** The prod profile on its own three nodes (`npm run lab:up -- --prod`): environment lab-prod. */
export const LAB_PROD_INVENTORY = `${REPO}twincigo.lab-prod.yml`;
export const LAB_PROD_ENV_FILE = `${REPO}env/.env.lab-prod`;
/** The public name lab-prod's edge answers for (Caddy's internal CA signs it; tests resolve it to lab-hil-1). */
export const LAB_PROD_HOST = 'app.lab-prod.test';
/** Where lab-prod's Alertmanager sends notifications: a webhook receiver a test runs on the lab host (the network's gateway). */
export const LAB_ALERT_RECEIVER = { host: NETWORK.gateway, port: 19093, path: '/alerts' };
export const LAB_STATE = `${LAB_DIR}/state.json`;
