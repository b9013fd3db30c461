import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { root, type Command } from '../remote/shell.js';
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

/**
 * iptables-restore input for one family: a chain of its own (flushed and refilled on every run,
 * so re-runs converge) that lets loopback, Docker's bridges (Supabase reaches HAProxy through
 * host.docker.internal), established traffic and the cluster's nodes through, and drops anyone
 * else on the cluster ports. It RETURNs rather than ACCEPTs, so the host's own rules still apply.
 */
export function chainRules(sources: readonly string[], ports: readonly number[], v6 = false): string[] {
  const host = v6 ? '/128' : '/32';
  return [
    '*filter',
    `:${CHAIN} - [0:0]`,
    `-A ${CHAIN} -i lo -j RETURN`,
    `-A ${CHAIN} -i docker0 -j RETURN`,
    `-A ${CHAIN} -i br-+ -j RETURN`,
    `-A ${CHAIN} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN`,
    ...sources.map((s) => `-A ${CHAIN} -s ${s.includes('/') ? s : s + host} -j RETURN`),
    `-A ${CHAIN} -p tcp -m multiport --dports ${ports.join(',')} -j DROP`,
    'COMMIT',
  ];
}

export interface FirewallPlan {
  node: string;
  ports: number[];
  /** Addresses allowed on the cluster ports: every node of the environment. */
  allowed: string[];
  script: string;
}

/** The node's firewall as a script: shown by --dry-run, uploaded, run, and re-run at boot. */
export function firewallPlan(env: EnvironmentConfig, node: NodeConfig): FirewallPlan {
  const ports = clusterPorts(node);
  const allowed = [...new Set(env.nodes.map((n) => n.privateAddress))];
  const v4 = allowed.filter((a) => !isV6(a));
  const v6 = allowed.filter(isV6);
  const lines = [
    '#!/bin/sh',
    `# twincigo firewall for ${node.name} (${env.name}): cluster ports ${ports.join(', ')} only from the cluster's nodes.`,
    '# Written by `twincigo bootstrap`; re-applied at boot. Do not edit: re-run bootstrap.',
    'set -e',
    "iptables-restore --noflush <<'RULES'",
    ...chainRules(v4, ports),
    'RULES',
    `iptables -C INPUT -j ${CHAIN} 2>/dev/null || iptables -I INPUT 1 -j ${CHAIN}`,
    'if command -v ip6tables-restore >/dev/null 2>&1; then',
    "ip6tables-restore --noflush <<'RULES'",
    ...chainRules(v6, ports, true),
    'RULES',
    `ip6tables -C INPUT -j ${CHAIN} 2>/dev/null || ip6tables -I INPUT 1 -j ${CHAIN}`,
    'fi',
    '# an active ufw would still drop the peers after our chain: allow them there too',
    'if command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q "^Status: active"; then',
    ...allowed.map((a) => `  ufw allow from ${a} proto tcp to any port ${ports.join(',')} comment twincigo >/dev/null`),
    'fi',
  ];
  return { node: node.name, ports, allowed, script: `${lines.join('\n')}\n` };
}

/** A systemd unit that re-applies the script at boot, before Docker starts the containers. */
export function firewallUnit(baseDir: string): string {
  return [
    '[Unit]',
    'Description=twincigo firewall (cluster ports only from the cluster nodes)',
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
