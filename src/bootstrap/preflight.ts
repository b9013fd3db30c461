import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import type { Role } from '../config/roles.js';
import { etcdTimings } from '../stack/timings.js';
import type { ServiceLimits } from '../stack/resources.js';
import type { NodeFacts } from './preflight-probe.js';
import { usesSwarm } from '../swarm/services.js';

/** The cluster ports each role listens on (host networking), and the service that owns them. */
export const ROLE_PORTS: Partial<Record<Role, { service: string; ports: number[] }>> = {
  etcd: { service: 'etcd', ports: [2379, 2380] },
  patroni: { service: 'patroni', ports: [5432, 8008] },
  haproxy: { service: 'haproxy', ports: [5000, 5001, 7000, 8405] },
  // pgBackRest's TLS servers: beside each database node, and the repository host's
  archive: { service: 'pgbackrest', ports: [8432] },
  backup: { service: 'pgbackrest-repo', ports: [8433] },
};

export const LIMITS = {
  minDiskGiB: 5,
  warnDiskGiB: 20,
  warnSkewMs: 250,
  maxSkewMs: 2000,
  minDockerMajor: 25,
};

export interface Finding {
  node: string | null;
  level: 'error' | 'warning';
  message: string;
}

export interface NodeInput {
  node: NodeConfig;
  facts: NodeFacts;
  /** Clock offset against the operator's clock (ms), from the probe's timestamp and the SSH round trip. */
  skewMs: number | null;
  limits: ServiceLimits[];
}

/** Docker is missing (or only compose v1): bootstrap can install it from the OS packages when allowed. */
export function needsDocker(f: NodeFacts): boolean {
  return f.docker === undefined || f.compose2 === undefined;
}

/**
 * Judges what the nodes told preflight. Errors stop bootstrap before anything changes; warnings
 * are shown and bootstrap goes on. Docker itself is judged by needsDocker (it can be installed).
 */
export function evaluate(env: EnvironmentConfig, inputs: NodeInput[]): Finding[] {
  const out: Finding[] = [];
  const err = (node: string | null, message: string) => out.push({ node, level: 'error', message });
  const warn = (node: string | null, message: string) => out.push({ node, level: 'warning', message });

  for (const { node, facts: f, limits } of inputs) {
    const n = node.name;
    if (f.uid !== 0) err(n, 'commands do not run as root (sudo -n failed)');
    if (f.arch && !['x86_64', 'aarch64'].includes(f.arch)) err(n, `architecture ${f.arch} is not supported (x86_64 or aarch64)`);
    if (f.os && !['ubuntu', 'debian'].includes(f.os.id)) warn(n, `OS ${f.os.id} ${f.os.version} is untested (Ubuntu and Debian are)`);
    if (!f.curl) err(n, 'curl is missing (health checks use it): apt-get install curl');
    const cpus = limits.reduce((s, l) => s + (l.cpus ?? 0), 0);
    const mem = limits.reduce((s, l) => s + (l.memoryMiB ?? 0), 0);
    if (f.cpus !== undefined && cpus > f.cpus + 1e-9) err(n, `its services are limited to ${cpus.toFixed(2)} CPUs in total, the node has ${f.cpus}`);
    if (f.memMiB !== undefined && mem > f.memMiB) err(n, `its services may use ${Math.round(mem)} MiB of memory, the node has ${f.memMiB} MiB`);
    if (f.diskFreeGiB !== undefined) {
      if (f.diskFreeGiB < LIMITS.minDiskGiB) err(n, `only ${f.diskFreeGiB.toFixed(1)} GiB free for Docker (at least ${LIMITS.minDiskGiB} GiB)`);
      else if (f.diskFreeGiB < LIMITS.warnDiskGiB) warn(n, `only ${f.diskFreeGiB.toFixed(1)} GiB free for Docker`);
    }
    if (f.docker === 'down') err(n, 'the Docker engine does not answer: systemctl start docker');
    else if (f.docker && Number(f.docker.split('.')[0]) < LIMITS.minDockerMajor) {
      err(n, `Docker ${f.docker} is too old (≥ ${LIMITS.minDockerMajor} needed for health checks' start_interval): upgrade docker.io`);
    }
    if (f.ufw === undefined && !f.iptables) warn(n, 'neither ufw nor iptables found: the firewall step cannot run (or pass --no-firewall)');
    if (usesSwarm(env) && env.swarm.encrypted) {
      if (f.esp === false) err(n, "the kernel has no IPsec ESP with AES-GCM, which Swarm's encrypted overlay needs (modprobe esp4; or swarm.encrypted: false in the inventory — the app tier's traffic between nodes then crosses the network unencrypted)");
      else if (f.esp === undefined) warn(n, "cannot tell whether the kernel does IPsec ESP (no ip or unshare): Swarm's encrypted overlay needs it");
    }
    for (const role of node.roles) {
      const owned = ROLE_PORTS[role];
      if (!owned) continue;
      // a port held by our own running service is ours (a re-run); otherwise something else holds it
      if (f.ours.get(owned.service) === 'running') continue;
      const busy = owned.ports.filter((p) => f.listening.has(p));
      if (busy.length > 0) err(n, `port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} already in use (needed by ${owned.service}): stop what listens there`);
    }
  }

  const byHost = new Map<string, string[]>();
  for (const { node, facts } of inputs) if (facts.hostname) byHost.set(facts.hostname, [...(byHost.get(facts.hostname) ?? []), node.name]);
  for (const [host, names] of byHost) if (names.length > 1) err(null, `nodes ${names.join(', ')} share the hostname ${host}: give each node its own`);

  const archs = new Set(inputs.map((i) => i.facts.arch).filter(Boolean));
  if (archs.size > 1) warn(null, `nodes differ in architecture (${[...archs].join(', ')}): every image must exist for each`);

  const skews = inputs.filter((i) => i.skewMs !== null).map((i) => ({ name: i.node.name, skew: i.skewMs! }));
  if (skews.length > 1) {
    const lo = skews.reduce((a, b) => (b.skew < a.skew ? b : a));
    const hi = skews.reduce((a, b) => (b.skew > a.skew ? b : a));
    const spread = Math.round(hi.skew - lo.skew);
    const msg = `clocks differ by ${spread} ms between ${hi.name} and ${lo.name}: enable NTP (timedatectl set-ntp true)`;
    if (spread > LIMITS.maxSkewMs) err(null, msg);
    else if (spread > LIMITS.warnSkewMs) warn(null, msg);
  }

  const timings = etcdTimings(env.rttMs);
  for (const { node, facts } of inputs) {
    for (const [peer, ms] of facts.rttMs) {
      if (ms === null) err(node.name, `cannot reach ${peer} (TCP to its SSH port): nodes must reach each other`);
      else if (ms > timings.heartbeatMs) {
        warn(node.name, `round trip to ${peer} is ${ms} ms, more than etcd's heartbeat (${timings.heartbeatMs} ms from rttMs ${env.rttMs}): raise rttMs in the inventory`);
      }
    }
  }
  return out;
}

/** The command that installs Docker with compose v2 from the OS packages. */
export function dockerInstallPackages(os: NodeFacts['os']): string[] {
  // Ubuntu ships compose v2 as docker-compose-v2; Debian (trixie) as docker-compose
  return ['docker.io', os?.id === 'ubuntu' ? 'docker-compose-v2' : 'docker-compose'];
}

/** What already runs (a re-run, or a half-finished bootstrap): the Patroni leader and whether etcd has data. */
export interface ExistingCluster {
  leader: string | null;
  etcd: boolean;
}

export function existingCluster(facts: Iterable<NodeFacts>): ExistingCluster {
  let leader: string | null = null;
  let etcd = false;
  for (const f of facts) {
    const l = f.members?.find((m) => (m.role === 'leader' || m.role === 'standby_leader') && m.state === 'running');
    if (l) leader ??= l.name;
    if (f.ours.has('etcd') || f.volumes.some((v) => v.endsWith('_etcd-data'))) etcd = true;
  }
  return { leader, etcd };
}
