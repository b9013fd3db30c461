import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { PROJECT } from '../remote/compose.js';

/** Loki's push API on the monitoring node, by its cluster address. */
export function lokiPushUrl(env: EnvironmentConfig): string | null {
  const mon = env.nodes.find((n) => n.roles.includes('monitoring'));
  return mon ? `http://${mon.privateAddress}:3100/loki/api/v1/push` : null;
}

const quote = (s: string) => JSON.stringify(s);

/**
 * The log agent's config for one node (Grafana Alloy's syntax): every container of the twincigo
 * compose project, found through the Docker socket, its output shipped to Loki with the labels
 * env, node, service (compose's service name), container and stream (stdout/stderr).
 */
export function alloyConfig(env: EnvironmentConfig, node: NodeConfig): string {
  const url = lokiPushUrl(env);
  if (!url) throw new Error(`environment ${env.name} has no monitoring node: no Loki to ship logs to`);
  const docker = quote('unix:///var/run/docker.sock');
  const rule = (source: string, target: string, regex?: string) =>
    [
      '  rule {',
      `    source_labels = [${quote(source)}]`,
      ...(regex ? [`    regex         = ${quote(regex)}`] : []),
      `    target_label  = ${quote(target)}`,
      '  }',
    ].join('\n');
  return [
    `// Rendered by twincigo for ${node.name} (${env.name}); do not edit on the node.`,
    `// Every container of the ${PROJECT} project, its output shipped to Loki on the monitoring node.`,
    `discovery.docker "${PROJECT}" {`,
    `  host             = ${docker}`,
    '  refresh_interval = "5s"',
    '  filter {',
    '    name   = "label"',
    `    values = [${quote(`com.docker.compose.project=${PROJECT}`)}]`,
    '  }',
    '}',
    '',
    `discovery.relabel "${PROJECT}" {`,
    '  targets = []',
    rule('__meta_docker_container_label_com_docker_compose_service', 'service'),
    rule('__meta_docker_container_name', 'container', '/(.*)'),
    rule('__meta_docker_container_log_stream', 'stream'),
    '}',
    '',
    `loki.source.docker "${PROJECT}" {`,
    `  host          = ${docker}`,
    `  targets       = discovery.docker.${PROJECT}.targets`,
    `  labels        = { env = ${quote(env.name)}, node = ${quote(node.name)} }`,
    `  relabel_rules = discovery.relabel.${PROJECT}.rules`,
    '  forward_to    = [loki.write.loki.receiver]',
    '}',
    '',
    'loki.write "loki" {',
    '  endpoint {',
    `    url = ${quote(url)}`,
    '  }',
    '}',
    '',
  ].join('\n');
}
