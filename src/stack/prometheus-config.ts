import { stringify } from 'yaml';
import type { NodeConfig } from '../config/model.js';

/** Prometheus targets (prod): Patroni, etcd, node and postgres exporters on every node, by cluster address. */
export function prometheusConfig(nodes: NodeConfig[]): string {
  const on = (role: string, port: number) => nodes.filter((n) => n.roles.includes(role as never)).map((n) => ({ targets: [`${n.privateAddress}:${port}`], labels: { node: n.name } }));
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
    ],
  };
  return `# Rendered by twincigo; do not edit on the node.\n${stringify(doc)}`;
}
