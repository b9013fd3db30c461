import { stringify } from 'yaml';
import type { NodeConfig } from '../config/model.js';

/** The edge the blackbox exporter probes (prod): Caddy's node, the public host, and who issues its certificate. */
export interface EdgeProbe {
  node: NodeConfig;
  publicHost: string;
  /** `internal` (Caddy's own CA: no public certificate to watch) or an ACME account's email. */
  issuer: string;
}

/** The URL probed through the edge: the backend's health behind Caddy, by the edge node's cluster address (TLS names the public host). */
export const edgeProbeUrl = (edge: EdgeProbe) => `https://${edge.node.privateAddress}/api/health`;

/**
 * Prometheus targets (prod): Patroni, etcd, node and postgres exporters on every node, by cluster
 * address; with an edge, the blackbox exporter's HTTPS probe of it (EdgeDown, CertificateExpiringSoon).
 */
export function prometheusConfig(nodes: NodeConfig[], edge?: EdgeProbe): string {
  const on = (role: string, port: number) => nodes.filter((n) => n.roles.includes(role as never)).map((n) => ({ targets: [`${n.privateAddress}:${port}`], labels: { node: n.name } }));
  const probe = edge && {
    job_name: 'edge',
    metrics_path: '/probe',
    params: { module: ['edge'] },
    static_configs: [{ targets: [edgeProbeUrl(edge)], labels: { node: edge.node.name, issuer: edge.issuer === 'internal' ? 'internal' : 'acme' } }],
    // the probed URL becomes the target parameter; the blackbox exporter is what is scraped
    relabel_configs: [
      { source_labels: ['__address__'], target_label: '__param_target' },
      { source_labels: ['__param_target'], target_label: 'instance' },
      { target_label: '__address__', replacement: 'blackbox:9115' },
    ],
  };
  const doc = {
    global: { scrape_interval: '15s', evaluation_interval: '15s' },
    rule_files: ['/etc/prometheus/alerts.yml'],
    alerting: { alertmanagers: [{ static_configs: [{ targets: ['alertmanager:9093'] }] }] },
    scrape_configs: [
      { job_name: 'patroni', static_configs: on('patroni', 8008) },
      { job_name: 'etcd', static_configs: on('etcd', 2379) },
      { job_name: 'node', static_configs: on('patroni', 9100) },
      { job_name: 'postgres', static_configs: on('patroni', 9187) },
      { job_name: 'haproxy', static_configs: on('haproxy', 8405) },
      ...(probe ? [probe] : []),
    ],
  };
  return `# Rendered by twincigo; do not edit on the node.\n${stringify(doc)}`;
}

/**
 * The blackbox exporter's module for the edge: HTTPS to the edge node's address with the public
 * host as SNI and Host, 200 expected. The certificate is verified when it is a public one (ACME);
 * Caddy's internal CA (the lab) is not in the exporter's trust store.
 */
export function blackboxConfig(edge: EdgeProbe): string {
  const doc = {
    modules: {
      edge: {
        prober: 'http',
        timeout: '5s',
        http: {
          method: 'GET',
          valid_status_codes: [200],
          fail_if_not_ssl: true,
          headers: { Host: edge.publicHost },
          tls_config: { server_name: edge.publicHost, insecure_skip_verify: edge.issuer === 'internal' },
        },
      },
    },
  };
  return `# Rendered by twincigo; do not edit on the node.\n${stringify(doc)}`;
}
