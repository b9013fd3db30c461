import type { NodeConfig } from '../config/model.js';
import type { Plan } from '../engine/types.js';
import type { BootstrapRun } from './bootstrap-run.js';
import { databasePhase } from './phases/database.js';
import { etcdPhase } from './phases/etcd.js';
import { firewallPhase } from './phases/firewall.js';
import { haproxyPhase } from './phases/haproxy.js';
import { imagesPhase } from './phases/images.js';
import { patroniPhase } from './phases/patroni.js';
import { recordPhase, servicesPhase, watchersPhase } from './phases/services.js';
import { stackPhase, swarmPhase } from './phases/swarm.js';
import { uploadPhase } from './phases/upload.js';

/** Phases 2–10: firewall, upload, images, (prod) the swarm — Compose's files name its overlay —, etcd, Patroni (leader first), HAProxy, database, services the app tier uses, (prod) the stack, monitoring/backups/log agent, record. */
export function bootstrapPlan(run: BootstrapRun): Plan<NodeConfig> {
  const phases = [firewallPhase, uploadPhase, imagesPhase, swarmPhase, etcdPhase, patroniPhase, haproxyPhase, databasePhase, servicesPhase, stackPhase, watchersPhase, recordPhase].flatMap((phase) => phase(run));
  return { title: `bootstrap ${run.env.name}`, phases };
}
