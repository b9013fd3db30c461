import { isIPv4, isIPv6 } from 'node:net';
import { formatPath } from './path.js';

/** An RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, ≤ 253 characters. */
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
export function isHostName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = (s.endsWith('.') ? s.slice(0, -1) : s).split('.');
  // an all-numeric last label would be a malformed IPv4 address, not a name
  return labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels.at(-1)!);
}

export const isIpAddress = (s: string): boolean => isIPv4(s) || isIPv6(s);

/** The shipped inventory marks addresses still to be filled in as `<…>`. */
export const isPlaceholderAddress = (s: string): boolean => /^<[^<>]*>$/.test(s.trim());

/** Structural check of `host` (any environment): an IP literal, an RFC 1123 name, or a `<…>` placeholder. */
export function hostProblem(s: string): string | null {
  if (isIpAddress(s) || isHostName(s) || isPlaceholderAddress(s)) return null;
  return `must be an IP address or a host name (RFC 1123: letters, digits, hyphens, dots), not ${JSON.stringify(s)}`;
}

/** Structural check of `privateAddress`: the cluster address, an IPv4 literal. */
export function privateAddressProblem(s: string): string | null {
  if (isIPv4(s)) return null;
  if (isIPv6(s)) return 'IPv6 cluster addresses are not supported yet: use the IPv4 address the other nodes reach this node at';
  if (isPlaceholderAddress(s)) return null;
  return `must be the IPv4 address the other nodes reach this node at (etcd, Patroni, pg_hba, HAProxy and the firewall use it), not ${JSON.stringify(s)}`;
}

interface RawNode {
  name?: unknown;
  host?: unknown;
  privateAddress?: unknown;
}

/**
 * The address rules of one environment, checked when it is used (so that the shipped prod
 * placeholders do not stop `--env dev`): no placeholder left, every node's cluster address an IP
 * (privateAddress, or host when host is one), no two nodes with one cluster address.
 */
export function environmentAddressProblems(envName: string, nodes: readonly RawNode[]): string[] {
  const problems: string[] = [];
  const at = (...p: PropertyKey[]) => formatPath(['environments', envName, 'nodes', ...p]);
  const seen = new Map<string, number>();
  const placeholders: string[] = [];
  nodes.forEach((n, i) => {
    const host = typeof n.host === 'string' ? n.host : undefined;
    const priv = typeof n.privateAddress === 'string' ? n.privateAddress : undefined;
    if (host !== undefined && isPlaceholderAddress(host)) placeholders.push(at(i, 'host'));
    if (priv !== undefined && isPlaceholderAddress(priv)) placeholders.push(at(i, 'privateAddress'));
    if (host === undefined || (isPlaceholderAddress(host) && priv === undefined)) return;
    let cluster: string | undefined;
    if (priv !== undefined) cluster = isPlaceholderAddress(priv) ? undefined : priv;
    else if (isIpAddress(host)) cluster = host;
    else {
      problems.push(`${at(i, 'host')}: "${host}" is a name, and the cluster address (etcd, Patroni, pg_hba, HAProxy, firewall) must be an IP — add privateAddress: <the IP the other nodes reach ${String(n.name ?? 'it')} at>`);
      return;
    }
    if (cluster === undefined) return;
    if (isIPv6(cluster) && priv === undefined) {
      problems.push(`${at(i, 'host')}: IPv6 cluster addresses are not supported yet — add privateAddress with the node's IPv4 address`);
      return;
    }
    const first = seen.get(cluster);
    if (first !== undefined) problems.push(`${at(i)}: cluster address ${cluster} is also nodes[${first}]'s — every node needs its own`);
    else seen.set(cluster, i);
  });
  if (placeholders.length > 0) problems.unshift(`fill in the ${envName} hosts: ${placeholders.join(', ')} still hold a placeholder`);
  return problems;
}
