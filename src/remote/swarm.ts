import { OVERLAY_NETWORK, STACK_NAME } from '../swarm/services.js';
import { and, or, pipe, redirect, root, run, type Command } from './shell.js';

/**
 * Docker Swarm on a node, as data. The join token never appears in a command line: the joining
 * node reads it from stdin.
 */

/** The address pool Swarm's networks (ingress, the stack's overlay) take subnets from: clear of the usual private networks (Hetzner's 10.0.0.0/16, Docker's bridges). */
export const ADDRESS_POOL = '10.231.0.0/16';
/** The overlay's own subnet, inside the pool. */
export const OVERLAY_SUBNET = '10.231.200.0/24';

/** `<state>|<node id>|<cluster id>|<control available>` (state: inactive, pending, active, error, locked; ids empty outside a swarm). */
export const swarmInfoCommand = (): Command => root('docker', 'info', '--format', '{{.Swarm.LocalNodeState}}|{{.Swarm.NodeID}}|{{if .Swarm.Cluster}}{{.Swarm.Cluster.ID}}{{end}}|{{.Swarm.ControlAvailable}}');

export interface SwarmInfo {
  state: string;
  nodeId: string;
  clusterId: string;
  manager: boolean;
}
export function parseSwarmInfo(text: string): SwarmInfo {
  const [state = 'unknown', nodeId = '', clusterId = '', manager = 'false'] = text.trim().split('|');
  return { state: state || 'unknown', nodeId, clusterId, manager: manager === 'true' };
}

export const swarmInitCommand = (addr: string): Command =>
  root('docker', 'swarm', 'init', '--advertise-addr', addr, '--listen-addr', `${addr}:2377`, '--data-path-addr', addr, '--default-addr-pool', ADDRESS_POOL, '--default-addr-pool-mask-length', '24');

/** Prints the manager join token (read by twincigo, handed to a joining node on stdin; never shown). */
export const managerTokenCommand = (): Command => root('docker', 'swarm', 'join-token', '--quiet', 'manager');

/** Joins as a manager; the token comes on stdin. */
export const swarmJoinCommand = (addr: string, manager: string): Command =>
  root('sh', '-c', `read -r t && exec docker swarm join --token "$t" --advertise-addr ${addr} --listen-addr ${addr}:2377 --data-path-addr ${addr} ${manager}:2377`);

/** Node labels (placement): set, every run (idempotent). */
export const labelNodeCommand = (nodeId: string, labels: Record<string, string>): Command =>
  root('docker', 'node', 'update', ...Object.entries(labels).flatMap(([k, v]) => ['--label-add', `${k}=${v}`]), nodeId);

/** The stack's overlay: attachable (Redis and MinIO under Compose join it), encrypted (cluster traffic crosses the internet) unless the inventory says not. */
export const ensureOverlayCommand = (encrypted: boolean): Command =>
  or(
    redirect(root('docker', 'network', 'inspect', OVERLAY_NETWORK), { stdout: '/dev/null', stderr: '&1' }),
    root('docker', 'network', 'create', '--driver', 'overlay', '--attachable', ...(encrypted ? ['--opt', 'encrypted'] : []), '--subnet', OVERLAY_SUBNET, OVERLAY_NETWORK),
  );

/** `<name>\t<spec label>\t<update state>\t<mode or replicas>\t<update started at>` per service of the stack. */
export const stackServicesCommand = (): Command =>
  pipe(
    root('docker', 'service', 'ls', '--quiet', '--filter', `label=com.docker.stack.namespace=${STACK_NAME}`),
    root('xargs', '-r', 'docker', 'service', 'inspect', '--format', '{{.Spec.Name}}\t{{index .Spec.Labels "twincigo.spec"}}\t{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}\t{{if .Spec.Mode.Global}}global{{else}}{{.Spec.Mode.Replicated.Replicas}}{{end}}\t{{if .UpdateStatus}}{{.UpdateStatus.StartedAt}}{{end}}'),
  );

/** Running tasks of the stack: `<service>\t<node hostname>\t<state>\t<error>`. */
export const stackTasksCommand = (): Command =>
  root('docker', 'stack', 'ps', STACK_NAME, '--filter', 'desired-state=running', '--no-trunc', '--format', '{{.Name}}\t{{.Node}}\t{{.CurrentState}}\t{{.Error}}');

/** The last tasks of one service, failed ones included (what a failed update says). */
export const serviceTasksCommand = (service: string): Command =>
  root('docker', 'service', 'ps', `${STACK_NAME}_${service}`, '--no-trunc', '--format', '{{.Name}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}');

/** An image's own entrypoint and command (`<json>\t<json>`), pulled first when the node lacks it. */
export function imageCommandCommand(image: string): Command {
  const inspect = root('docker', 'image', 'inspect', '--format', '{{json .Config.Entrypoint}}\t{{json .Config.Cmd}}', image);
  return or(redirect(inspect, { stderr: '/dev/null' }), and(redirect(root('docker', 'pull', '--quiet', image), { stdout: '/dev/null' }), inspect));
}

export const stackDeployCommand = (file: string): Command =>
  root('docker', 'stack', 'deploy', '--prune', '--with-registry-auth', '--resolve-image', 'never', '--detach=true', '--compose-file', file, STACK_NAME);

/** Secrets and configs the stack made (by namespace label), by kind: `<kind> <name>` lines. */
export const stackObjectsCommand = (): Command =>
  and(
    pipe(root('docker', 'secret', 'ls', '--filter', `label=com.docker.stack.namespace=${STACK_NAME}`, '--format', '{{.Name}}'), run('sed', 's/^/secret /')),
    pipe(root('docker', 'config', 'ls', '--filter', `label=com.docker.stack.namespace=${STACK_NAME}`, '--format', '{{.Name}}'), run('sed', 's/^/config /')),
  );

/** Removes old secrets/configs; one still in use is refused by Docker and kept (`|| true` per object). */
export const removeObjectsCommand = (objs: Array<{ kind: 'secret' | 'config'; name: string }>): Command =>
  and(...objs.map((o) => or(redirect(root('docker', o.kind, 'rm', o.name), { stdout: '/dev/null', stderr: '/dev/null' }), run('true'))));

/** The swarm's nodes: `<hostname>\t<status>\t<availability>`. */
export const swarmNodesCommand = (): Command => root('docker', 'node', 'ls', '--format', '{{.Hostname}}\t{{.Status}}\t{{.Availability}}');

/** A service's replicas set (no task replaced): scaling up places the new task where the service has fewest, scaling down removes one where it has most. */
export const scaleCommand = (service: string, replicas: number): Command => root('docker', 'service', 'scale', '--detach', `${STACK_NAME}_${service}=${replicas}`);

/** Every swarm node, described: `<id>\t<hostname>\t<twincigo.node label>\t<status>\t<manager reachability>`. */
export const swarmNodeDetailsCommand = (): Command =>
  pipe(
    root('docker', 'node', 'ls', '--quiet'),
    root('xargs', '-r', 'docker', 'node', 'inspect', '--format', '{{.ID}}\t{{.Description.Hostname}}\t{{index .Spec.Labels "twincigo.node"}}\t{{.Status.State}}\t{{if .ManagerStatus}}{{.ManagerStatus.Reachability}}{{end}}'),
  );

/** A dead manager out of the swarm: demoted (the raft membership shrinks), then removed. Needs a quorum of the managers left. */
export const removeSwarmNodeCommand = (id: string, manager: boolean): Command =>
  and(...(manager ? [demoteCommand(id)] : []), root('docker', 'node', 'rm', '--force', id));

/** A manager made a worker (the managers' raft membership shrinks by one). */
export const demoteCommand = (id: string): Command => root('docker', 'node', 'demote', id);

/** No new tasks on the node, its running ones moved elsewhere (Swarm reschedules them). */
export const drainNodeCommand = (id: string): Command => root('docker', 'node', 'update', '--availability', 'drain', id);

/** Tasks Swarm still runs on a node: one id per line. */
export const nodeRunningTasksCommand = (id: string): Command => root('docker', 'node', 'ps', id, '--filter', 'desired-state=running', '--quiet');

/** The node leaves its swarm (run on the node itself). */
export const swarmLeaveCommand = (): Command => root('docker', 'swarm', 'leave', '--force');
