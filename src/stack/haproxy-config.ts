import type { NodeConfig } from '../config/model.js';

/** Replicas more than this far behind the leader are taken out of :5001. */
export const REPLICA_MAX_LAG = '16MB';

/**
 * haproxy.cfg, the same on every node: 5000 → the Patroni leader (GET /primary), 5001 → replicas
 * under the lag limit (GET /replica?lag=…), stats on 7000 with a password from the environment.
 * Fast checks (1 s; 500 ms while a server changes state and while it is down, so a replica just
 * promoted is picked up within half a second; down after 2 failures) so HAProxy follows a new
 * leader within seconds; connections to a demoted server are cut at once.
 */
export function haproxyConfig(nodes: NodeConfig[]): string {
  const servers = nodes
    .filter((n) => n.roles.includes('patroni'))
    .map((n) => `  server ${n.name} ${n.privateAddress}:5432 check port 8008`)
    .join('\n');
  const checks = `  http-check expect status 200
  default-server inter 1s fastinter 500ms downinter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
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
  timeout connect 4s
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

listen primary
  bind *:5000
  option httpchk GET /primary
${checks}

listen replicas
  bind *:5001
  balance roundrobin
  option httpchk GET /replica?lag=${REPLICA_MAX_LAG}
${checks}
`;
}
