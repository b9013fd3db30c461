import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { root, type Command } from '../remote/shell.js';
import type { Role } from '../config/roles.js';
import { ROLE_PORTS } from './preflight.js';

export const CHAIN = 'TWINCIGO';
/** Where the node keeps its firewall script (re-applied at boot by a systemd unit when there is systemd). */
export const firewallScriptPath = (baseDir: string) => `${baseDir}/firewall.sh`;
export const UNIT = 'twincigo-firewall.service';

/** The cluster ports a node listens on, from its roles. */
export function clusterPorts(node: NodeConfig): number[] {
  return node.roles.flatMap((r) => ROLE_PORTS[r]?.ports ?? []).sort((a, b) => a - b);
}

const isV6 = (addr: string) => addr.includes(':');

/** Ports Docker publishes for the outside on purpose, per profile and role (docs/stack.md says why). */
export const PUBLIC_PORTS: Record<'dev' | 'prod', Partial<Record<Role, number[]>>> = {
  // dev: no edge — Kong (the developers' API endpoint) and the backend over plain HTTP, dev data only
  dev: { supabase: [8000], backend: [8080] },
  // prod: only the edge (Caddy: HTTP for ACME and the redirect, HTTPS)
  prod: { supabase: [80, 443] },
};

/** What anyone may reach on a node: SSH (22 and the inventory's port) and the node's public ports. */
export function publicPorts(env: EnvironmentConfig, node: NodeConfig): number[] {
  const ssh = [22, node.ssh.port ?? 22];
  const published = node.roles.flatMap((r) => PUBLIC_PORTS[env.profile][r] ?? []);
  return [...new Set([...ssh, ...published])].sort((a, b) => a - b);
}

/**
 * iptables-restore input for one family, two chains of our own (flushed and refilled on every run,
 * so re-runs converge): TWINCIGO on INPUT (services on the host network: etcd, Patroni, HAProxy,
 * exporters) and TWINCIGO-DOCKER on DOCKER-USER (ports Docker publishes: their traffic is forwarded
 * to a container and never crosses INPUT). Both let loopback, Docker's bridges, established traffic
 * and the cluster's nodes through, then the public ports, and drop every other new TCP connection.
 * They RETURN rather than ACCEPT, so the host's own rules still apply. UDP is left alone (DHCP) but for
 * Swarm's gossip and VXLAN ports, which only the nodes may reach.
 */
export function chainRules(sources: readonly string[], publicTcp: readonly number[], v6 = false): string[] {
  const host = v6 ? '/128' : '/32';
  const common = (chain: string) => [
    `-A ${chain} -i lo -j RETURN`,
    `-A ${chain} -i docker0 -j RETURN`,
    `-A ${chain} -i br-+ -j RETURN`,
    `-A ${chain} -i docker_gwbridge -j RETURN`,
    `-A ${chain} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN`,
    ...sources.map((s) => `-A ${chain} -s ${s.includes('/') ? s : s + host} -j RETURN`),
  ];
  return [
    '*filter',
    `:${CHAIN} - [0:0]`,
    `:${DOCKER_CHAIN} - [0:0]`,
    ...common(CHAIN),
    `-A ${CHAIN} -p tcp -m multiport --dports ${publicTcp.join(',')} -j RETURN`,
    `-A ${CHAIN} -p tcp -j DROP`,
    // Swarm's gossip and VXLAN (overlay traffic) from the cluster's nodes only
    `-A ${CHAIN} -p udp -m multiport --dports ${SWARM_UDP.join(',')} -j DROP`,
    ...common(DOCKER_CHAIN),
    // a published port is matched by the port the client asked for (before Docker's DNAT)
    ...publicTcp.map((p) => `-A ${DOCKER_CHAIN} -p tcp -m conntrack --ctorigdstport ${p} -j RETURN`),
    `-A ${DOCKER_CHAIN} -p tcp -j DROP`,
    'COMMIT',
  ];
}
export const DOCKER_CHAIN = 'TWINCIGO-DOCKER';
/** Docker Swarm's UDP ports (7946 gossip, 4789 VXLAN); its TCP ones (2377, 7946) are dropped with every other TCP port not public. */
export const SWARM_UDP = [4789, 7946];

export interface FirewallPlan {
  node: string;
  /** The cluster ports of the node's roles (allowed in ufw for the nodes when ufw is active). */
  ports: number[];
  /** Open to anyone: SSH and the node's public ports; every other TCP port only from the nodes. */
  publicPorts: number[];
  /** Addresses allowed on every port: every node of the environment. */
  allowed: string[];
  script: string;
}

/** Both chains hooked in once: ours first on INPUT and in DOCKER-USER (created when Docker has not yet). */
const hooks = (cmd: string) => [
  `${cmd} -C INPUT -j ${CHAIN} 2>/dev/null || ${cmd} -I INPUT 1 -j ${CHAIN}`,
  `${cmd} -N DOCKER-USER 2>/dev/null || true`,
  `${cmd} -C DOCKER-USER -j ${DOCKER_CHAIN} 2>/dev/null || ${cmd} -I DOCKER-USER 1 -j ${DOCKER_CHAIN}`,
];

/** The node's firewall as a script: shown by --dry-run, uploaded, run, and re-run at boot. */
export function firewallPlan(env: EnvironmentConfig, node: NodeConfig): FirewallPlan {
  const ports = clusterPorts(node);
  const open = publicPorts(env, node);
  const allowed = [...new Set(env.nodes.map((n) => n.privateAddress))];
  const v4 = allowed.filter((a) => !isV6(a));
  const v6 = allowed.filter(isV6);
  const lines = [
    '#!/bin/sh',
    `# twincigo firewall for ${node.name} (${env.name}): from outside the cluster only tcp ${open.join(', ')}; every port from the cluster's nodes.`,
    '# Written by `twincigo bootstrap`; re-applied at boot. Do not edit: re-run bootstrap.',
    'set -e',
    "iptables-restore --noflush <<'RULES'",
    ...chainRules(v4, open),
    'RULES',
    ...hooks('iptables'),
    'if command -v ip6tables-restore >/dev/null 2>&1; then',
    "ip6tables-restore --noflush <<'RULES'",
    ...chainRules(v6, open, true),
    'RULES',
    ...hooks('ip6tables'),
    'fi',
    '# an active ufw would still drop the peers after our chain: allow them there too',
    'if command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q "^Status: active"; then',
    ...allowed.map((a) => `  ufw allow from ${a} proto tcp to any port ${ports.join(',')} comment twincigo >/dev/null`),
    'fi',
  ];
  return { node: node.name, ports, publicPorts: open, allowed, script: `${lines.join('\n')}\n` };
}

/** A systemd unit that re-applies the script at boot, before Docker starts the containers. */
export function firewallUnit(baseDir: string): string {
  return [
    '[Unit]',
    'Description=twincigo firewall (from outside the cluster only SSH and the public ports)',
    'Before=docker.service network-online.target',
    'DefaultDependencies=no',
    'After=local-fs.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=/bin/sh ${firewallScriptPath(baseDir)}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Runs the script, and enables the boot unit when the node runs systemd; prints "persistent" or "not-persistent". */
export function applyFirewallCommand(baseDir: string): Command {
  return root(
    'sh', '-c',
    'sh "$1" && if [ -d /run/systemd/system ]; then printf "%s" "$2" > /etc/systemd/system/' + UNIT + ' && systemctl daemon-reload && systemctl enable --quiet ' + UNIT + ' && echo persistent; else echo not-persistent; fi',
    'sh', firewallScriptPath(baseDir), firewallUnit(baseDir),
  );
}
