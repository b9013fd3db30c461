/**
 * The lab's containers: a Docker engine on the host (started when missing), the bridge network,
 * the registry, and three nodes — each with sshd (key auth, fresh host keys recorded in the lab's
 * known_hosts) and its own dockerd with compose v2.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { CACHE_DIR, LABEL, LAB_DIR, LAB_KEY, LAB_SET, knownHostsOf, NETWORK, NODE_REGISTRY, REGISTRY, containerName, volumeName, type LabNode, type LabSet } from './config.ts';
import { docker, inNode, sh, waitFor, type Log } from './run.ts';

/** dockerd must run on the host; as root, lab:up starts it (CI machines start without one). */
export async function ensureDockerd(log: Log): Promise<void> {
  if ((await docker(['info'], { reject: false })).exitCode === 0) return;
  if (process.getuid?.() !== 0) throw new Error('no Docker engine is running: start dockerd (as root: dockerd &), then re-run');
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) {
    throw new Error('dockerd is not installed: run tests/setup-machine.sh as root (installs docker.io)');
  }
  log('starting dockerd (log: /var/log/twincigo-lab-dockerd.log)');
  await sh('sh', ['-c', 'nohup dockerd >/var/log/twincigo-lab-dockerd.log 2>&1 &']);
  await waitFor('dockerd', async () => (await docker(['info'], { reject: false })).exitCode === 0, 60_000, 500);
}

export function ensureLabKey(): string {
  mkdirSync(LAB_DIR, { recursive: true, mode: 0o700 });
  if (!existsSync(LAB_KEY)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'twincigo-lab', '-f', LAB_KEY]);
  return readFileSync(`${LAB_KEY}.pub`, 'utf8').trim();
}

const exists = async (kind: 'container' | 'network' | 'volume', name: string) =>
  (await docker([kind, 'inspect', name], { reject: false })).exitCode === 0;

const running = async (name: string) =>
  (await docker(['inspect', '-f', '{{.State.Running}}', name], { reject: false })).stdout.trim() === 'true';

export async function ensureNetwork(): Promise<void> {
  if (await exists('network', NETWORK.name)) return;
  await docker(['network', 'create', '--label', LABEL, '--subnet', NETWORK.subnet, '--gateway', NETWORK.gateway, NETWORK.name]);
}

export async function ensureRegistry(image: string): Promise<void> {
  if (!(await running(REGISTRY.container))) {
    await docker(['rm', '-f', REGISTRY.container], { reject: false });
    mkdirSync(`${CACHE_DIR}/registry`, { recursive: true });
    await docker([
      'run', '-d', '--name', REGISTRY.container, '--label', LABEL, '--network', NETWORK.name, '--ip', REGISTRY.ip,
      '-p', `127.0.0.1:${REGISTRY.hostPort}:${REGISTRY.port}`,
      // the registry's storage is the lab's image cache: it outlives lab:down (lab:down --purge removes it)
      '-v', `${CACHE_DIR}/registry:/var/lib/docker-registry`,
      image,
    ]);
  }
  await waitFor('the lab registry', async () => (await fetch(`http://127.0.0.1:${REGISTRY.hostPort}/v2/`)).status === 200, 30_000);
}

/** Starts a node container (idempotent: a running node of the same image is left alone). */
export async function startNode(node: LabNode, image: string, authorizedKey: string, set: LabSet = LAB_SET): Promise<void> {
  const name = containerName(node.name, set);
  const current = (await docker(['inspect', '-f', '{{.Config.Image}}', name], { reject: false })).stdout.trim();
  if (current === image && (await running(name))) return;
  await docker(['rm', '-f', name], { reject: false });
  const volume = volumeName(node.name, set);
  if (!(await exists('volume', volume))) await docker(['volume', 'create', '--label', LABEL, volume]);
  await docker([
    'run', '-d', '--name', name, '--hostname', node.name, '--label', LABEL,
    '--network', NETWORK.name, '--ip', node.ip,
    // docker-in-docker without --privileged (refused here): every capability but SYS_RESOURCE
    '--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE',
    '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined',
    '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw',
    // a fresh /run at every start, as a real node's after a reboot (no stale docker.pid after a kill)
    '--tmpfs', '/run:exec,mode=755',
    '-v', `${volume}:/var/lib/docker`,
    '-e', `LAB_AUTHORIZED_KEY=${authorizedKey}`, '-e', `LAB_REGISTRY=${NODE_REGISTRY}`,
    image,
  ]);
}

function sshReady(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(22, ip);
    const done = (ok: boolean) => (s.destroy(), resolve(ok));
    s.setTimeout(1000, () => done(false));
    s.once('data', (d) => done(d.toString().startsWith('SSH-')));
    s.once('error', () => done(false));
  });
}

/** Waits until the node's sshd answers and its dockerd serves; returns its known_hosts lines. */
export async function waitForNode(node: LabNode, set: LabSet = LAB_SET): Promise<string[]> {
  const name = containerName(node.name, set);
  await waitFor(`${node.name}: sshd`, () => sshReady(node.ip), 60_000);
  await waitFor(`${node.name}: dockerd`, async () => (await inNode(name, ['docker', 'info'], { reject: false })).exitCode === 0, 90_000, 500);
  const keys = await inNode(name, ['sh', '-c', 'cat /etc/ssh/ssh_host_*_key.pub']);
  return keys.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => `${node.ip} ${l.split(' ').slice(0, 2).join(' ')}`);
}

/** The set's known_hosts, replaced whole (written beside, then renamed): a reader never sees half a file. */
export function writeKnownHosts(lines: string[], set: LabSet = LAB_SET): void {
  const file = knownHostsOf(set);
  writeFileSync(`${file}.new`, `${lines.join('\n')}\n`, { mode: 0o600 });
  renameSync(`${file}.new`, file);
}

/** Removes every container, network and volume labelled as the lab's. */
export async function removeAll(log: Log): Promise<void> {
  const ids = (await docker(['ps', '-aq', '--filter', `label=${LABEL}`])).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) {
    log(`removing ${ids.length} container(s)`);
    await docker(['rm', '-f', '-v', ...ids]);
  }
  const nets = (await docker(['network', 'ls', '-q', '--filter', `label=${LABEL}`])).stdout.split('\n').filter(Boolean);
  if (nets.length > 0) await docker(['network', 'rm', ...nets]);
  const vols = (await docker(['volume', 'ls', '-q', '--filter', `label=${LABEL}`])).stdout.split('\n').filter(Boolean);
  if (vols.length > 0) {
    log(`removing ${vols.length} volume(s)`);
    await docker(['volume', 'rm', '-f', ...vols]);
  }
}

/** What is left of the lab (all empty after lab:down). */
export async function leftovers(): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const list = async (args: string[]) => (await docker(args)).stdout.split('\n').filter(Boolean);
  return {
    containers: await list(['ps', '-a', '--format', '{{.Names}}', '--filter', `label=${LABEL}`]),
    networks: await list(['network', 'ls', '--format', '{{.Name}}', '--filter', `label=${LABEL}`]),
    volumes: await list(['volume', 'ls', '--format', '{{.Name}}', '--filter', `label=${LABEL}`]),
  };
}

