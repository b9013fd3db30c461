import type { NodeConfig } from '../config/model.js';

/** Replicas more than this far behind the leader are taken out of :5001. */
export const REPLICA_MAX_LAG = '16MB';

/**
 * haproxy.cfg, the same on every node: 5000 → the Patroni leader (GET /primary), 5001 → replicas
 * under the lag limit (GET /replica?lag=…), stats on 7000 with a password from the environment.
 * Fast checks — :5000 every 500 ms, :5001 every 1 s, 250 ms while a server changes state or is
 * down; down after 2 failures — and connections to a demoted server cut at once. For a planned
 * switchover (measured on the lab: 2.6 → 1.5 s write outage, median of 5) the old leader leaves
 * :5000 and the new one joins within about half a second of Patroni saying so, and a connect to
 * the old leader that fails is retried at once on another server (redispatch) rather than on
 * the same one after a second's turn-around.
 */
export function haproxyConfig(nodes: NodeConfig[]): string {
  const servers = nodes
    .filter((n) => n.roles.includes('patroni'))
    .map((n) => `  server ${n.name} ${n.privateAddress}:5432 check port 8008`)
    .join('\n');
  const checks = (inter: string) => `  http-check expect status 200
  default-server inter ${inter} fastinter 250ms downinter 250ms fall 2 rise 1 on-marked-down shutdown-sessions
${servers}`;
  return `# Rendered by twincigo; do not edit on the node.
global
  maxconn 1000
  log stdout format raw local0 notice

defaults
  mode tcp
  log global
  option tcplog
  retries 2
  # a refused connect is retried on the same server after min(timeout connect, 1 s): keep it
  # short (the cluster's round trip is ~70 ms at most)
  timeout connect 500ms
  timeout client 30m
  timeout server 30m
  timeout check 3s

listen stats
  mode http
  bind *:7000
  stats enable
  stats uri /
  stats refresh 10s
  stats auth "admin:\${HAPROXY_STATS_PASSWORD}"

# Prometheus's view of the backends (HAProxy's built-in exporter); the firewall keeps it to the nodes
frontend metrics
  mode http
  bind *:8405
  http-request use-service prometheus-exporter if { path /metrics }
  no log

listen primary
  bind *:5000
  option httpchk GET /primary
  # a connect that fails (the old leader, demoted) is retried on another server, at once
  option redispatch 1
${checks('500ms')}

listen replicas
  bind *:5001
  balance roundrobin
  option httpchk GET /replica?lag=${REPLICA_MAX_LAG}
${checks('1s')}
`;
}
