/**
 * Machines that die and are replaced: a node's container and its disk (the Docker volume holding
 * every image, container and volume of the node) destroyed; a fresh bare machine for the same node
 * name at an address the lab gives it (sshd + dockerd, nothing of the stack, new host keys).
 */
import { readFileSync } from 'node:fs';
import { LAB_KNOWN_HOSTS, NETWORK, NODES, SPARE_IPS, containerName, volumeName, type LabNode } from './config.ts';
import { docker } from './run.ts';
import { startNode, waitForNode, writeKnownHosts } from './nodes.ts';
import { ensureLabKey } from './nodes.ts';

export { SPARE_IPS };

/** The node's machine and disk gone for good; returns the image it ran (a replacement runs the same). */
export async function destroyNode(name: string): Promise<string> {
  const container = containerName(name);
  const image = (await docker(['inspect', '-f', '{{.Config.Image}}', container])).stdout.trim();
  await docker(['rm', '-f', container]);
  await docker(['volume', 'rm', '-f', volumeName(name)]);
  return image;
}

/** The address a lab node's container has now (a replaced node may sit at a spare address). */
export async function addressOf(name: string): Promise<string> {
  return (await docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${NETWORK.name}").IPAddress}}`, containerName(name)])).stdout.trim();
}

/**
 * A bare machine for `name` at `ip`: the lab's node image, a new disk, new host keys — recorded in
 * the lab's known_hosts for that address (lines of the address before are dropped), as an operator
 * would after checking the new machine's fingerprint.
 */
export async function startBareNode(name: string, ip: string, image: string): Promise<LabNode> {
  const node: LabNode = { name, ip, roles: NODES.find((n) => n.name === name)?.roles ?? [] };
  await startNode(node, image, ensureLabKey());
  const keys = await waitForNode(node);
  const kept = readFileSync(LAB_KNOWN_HOSTS, 'utf8').split('\n').filter((l) => l && !l.startsWith(`${ip} `));
  writeKnownHosts([...kept, ...keys]);
  return node;
}
