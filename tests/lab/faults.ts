/**
 * Fault injection for tests: the ways a real node fails. A whole node (its container) can be
 * killed, stopped, paused and brought back; a container inside a node stopped; a node cut off
 * from the other two (iptables inside the node, in a chain of its own) and healed. The host keeps
 * reaching every node, as an operator would.
 */
import { NODES, containerName } from './config.ts';
import { docker, inNode, waitFor } from './run.ts';
import { waitForNode } from './nodes.ts';

const node = (name: string) => {
  const n = NODES.find((x) => x.name === name);
  if (!n) throw new Error(`no lab node ${name} (nodes: ${NODES.map((x) => x.name).join(', ')})`);
  return n;
};

/** SIGKILL the node: every process on it dies at once, as in a power loss. */
export const killNode = async (name: string) => void (await docker(['kill', containerName(node(name).name)]));
export const stopNode = async (name: string) => void (await docker(['stop', '-t', '10', containerName(node(name).name)]));
export const pauseNode = async (name: string) => void (await docker(['pause', containerName(node(name).name)]));
export const unpauseNode = async (name: string) => void (await docker(['unpause', containerName(node(name).name)]));

/** Starts a killed or stopped node and waits for its sshd and dockerd (its containers restart per their policy). */
export async function startNode(name: string): Promise<void> {
  const n = node(name);
  await docker(['start', containerName(n.name)]);
  await waitForNode(n);
}

/** Stops (or kills) one container inside a node, e.g. its Patroni. */
export async function stopContainer(nodeName: string, container: string, how: 'stop' | 'kill' = 'stop'): Promise<void> {
  await inNode(containerName(node(nodeName).name), ['docker', how, container]);
}

const CHAIN = 'TWINCIGO-LAB-PARTITION';

/** Drops all traffic between this node and the other lab nodes, both ways; idempotent. */
export async function partition(name: string): Promise<void> {
  const n = node(name);
  const peers = NODES.filter((x) => x.name !== n.name).map((x) => x.ip);
  const rules = [
    `iptables -N ${CHAIN} 2>/dev/null || iptables -F ${CHAIN}`,
    ...peers.flatMap((ip) => [`iptables -A ${CHAIN} -s ${ip} -j DROP`, `iptables -A ${CHAIN} -d ${ip} -j DROP`]),
    `iptables -C INPUT -j ${CHAIN} 2>/dev/null || iptables -I INPUT 1 -j ${CHAIN}`,
    `iptables -C OUTPUT -j ${CHAIN} 2>/dev/null || iptables -I OUTPUT 1 -j ${CHAIN}`,
  ];
  await inNode(containerName(n.name), ['sh', '-ec', rules.join('\n')]);
}

/** Removes the partition; idempotent. */
export async function heal(name: string): Promise<void> {
  const n = node(name);
  const rules = [
    `while iptables -D INPUT -j ${CHAIN} 2>/dev/null; do :; done`,
    `while iptables -D OUTPUT -j ${CHAIN} 2>/dev/null; do :; done`,
    `iptables -F ${CHAIN} 2>/dev/null || true`,
    `iptables -X ${CHAIN} 2>/dev/null || true`,
  ];
  await inNode(containerName(n.name), ['sh', '-c', rules.join('\n')]);
}

const SSH_CHAIN = 'TWINCIGO-LAB-NOSSH';

/** The node refuses new SSH connections (reset), as a node whose sshd is down; the cluster keeps running. */
export async function blockSsh(name: string): Promise<void> {
  const rules = [
    `iptables -N ${SSH_CHAIN} 2>/dev/null || iptables -F ${SSH_CHAIN}`,
    `iptables -A ${SSH_CHAIN} -p tcp --dport 22 --syn -j REJECT --reject-with tcp-reset`,
    `iptables -C INPUT -j ${SSH_CHAIN} 2>/dev/null || iptables -I INPUT 1 -j ${SSH_CHAIN}`,
  ];
  await inNode(containerName(node(name).name), ['sh', '-ec', rules.join('\n')]);
}

export async function unblockSsh(name: string): Promise<void> {
  const rules = [`while iptables -D INPUT -j ${SSH_CHAIN} 2>/dev/null; do :; done`, `iptables -F ${SSH_CHAIN} 2>/dev/null || true`, `iptables -X ${SSH_CHAIN} 2>/dev/null || true`];
  await inNode(containerName(node(name).name), ['sh', '-c', rules.join('\n')]);
}

/** Can `from` open a TCP connection to `to`:port? (used to prove a partition holds and heals) */
export async function canReach(from: string, to: string, port = 22): Promise<boolean> {
  const res = await inNode(containerName(node(from).name), ['timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${node(to).ip}/${port}`], { reject: false });
  return res.exitCode === 0;
}

export async function waitUntilReachable(from: string, to: string, port = 22): Promise<void> {
  await waitFor(`${from} → ${to}:${port}`, () => canReach(from, to, port), 10_000);
}

/**
 * Back to bare nodes (what bootstrap starts from): out of any swarm (lab-prod's), every container
 * and volume of the stack, the base dir and the firewall chains removed; the images stay, as on a
 * node that pulled them before.
 */
export async function wipeStack(names: string[] = NODES.map((n) => n.name)): Promise<void> {
  const script = [
    // out of lab-prod's swarm; Docker's network gossip keeps the old swarm's identity until the
    // engine restarts (measured: overlay DNS empty, "rejoinClusterBootstrap unable to find local
    // node info" after a leave and a new join) — a node that leaves gets a fresh engine, as
    // node-init starts it
    'swarm=$(docker info --format "{{.Swarm.LocalNodeState}}" 2>/dev/null)',
    'docker swarm leave --force >/dev/null 2>&1 || true',
    'docker ps -aq | xargs -r docker rm -f >/dev/null',
    'docker volume ls -q | xargs -r docker volume rm >/dev/null',
    'docker network ls -q --filter label=com.docker.compose.project | xargs -r docker network rm >/dev/null',
    'rm -rf /opt/twincigo-crm',
    'if [ "$swarm" = active ]; then pkill -x dockerd; while pgrep -x dockerd >/dev/null; do sleep 0.2; done; (DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1 setsid dockerd >>/var/log/dockerd.log 2>&1 &); until docker info >/dev/null 2>&1; do sleep 0.3; done; fi',
    ...['iptables', 'ip6tables'].flatMap((t) => [
      `while ${t} -D INPUT -j TWINCIGO 2>/dev/null; do :; done; ${t} -F TWINCIGO 2>/dev/null; ${t} -X TWINCIGO 2>/dev/null`,
      `while ${t} -D DOCKER-USER -j TWINCIGO-DOCKER 2>/dev/null; do :; done; ${t} -F TWINCIGO-DOCKER 2>/dev/null; ${t} -X TWINCIGO-DOCKER 2>/dev/null`,
    ]),
    'true',
  ].join('\n');
  await Promise.all(names.map((n) => inNode(containerName(node(n).name), ['sh', '-c', script])));
}

/** The container of a Swarm stack service's task on a node (lab-prod's app tier), or '' when it runs none there. */
export async function taskContainer(nodeName: string, service: string): Promise<string> {
  const r = await inNode(containerName(node(nodeName).name), ['docker', 'ps', '-q', '--filter', `label=com.docker.swarm.service.name=twincigo-app_${service}`], { reject: false });
  return r.stdout.split('\n')[0]?.trim() ?? '';
}
