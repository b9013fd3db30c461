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
export const NODES: LabNode[] = [
  { name: 'lab-hil-1', ip: '172.28.77.11', roles: ['etcd', 'patroni', 'haproxy', 'supabase', 'storage'] },
  { name: 'lab-ash-1', ip: '172.28.77.12', roles: ['etcd', 'patroni', 'haproxy', 'backend', 'redis'] },
  { name: 'lab-ash-2', ip: '172.28.77.13', roles: ['etcd', 'patroni', 'haproxy', 'monitoring', 'backup'] },
];
export const containerName = (node: string) => `${PREFIX}-${node.replace(/^lab-/, '')}`;
export const volumeName = (node: string) => `${containerName(node)}-docker`;

export const LAB_KEY = `${LAB_DIR}/id_ed25519`;
export const LAB_KNOWN_HOSTS = `${LAB_DIR}/known_hosts`;
export const LAB_INVENTORY = `${REPO}twincigo.lab.yml`;
export const LAB_ENV_FILE = `${REPO}env/.env.lab`;
/** The prod profile on the same nodes (`npm run lab:up -- --prod`): environment lab-prod. */
export const LAB_PROD_INVENTORY = `${REPO}twincigo.lab-prod.yml`;
export const LAB_PROD_ENV_FILE = `${REPO}env/.env.lab-prod`;
/** The public name lab-prod's edge answers for (Caddy's internal CA signs it; tests resolve it to lab-hil-1). */
export const LAB_PROD_HOST = 'app.lab-prod.test';
/** Where lab-prod's Alertmanager sends notifications: a webhook receiver a test runs on the lab host (the network's gateway). */
export const LAB_ALERT_RECEIVER = { host: NETWORK.gateway, port: 19093, path: '/alerts' };
export const LAB_STATE = `${LAB_DIR}/state.json`;
