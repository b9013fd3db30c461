import { containerName } from '../remote/compose.js';
import { root, type Command } from '../remote/shell.js';

/** An alert Alertmanager holds as active (firing, not silenced or inhibited). */
export interface FiringAlert {
  name: string;
  severity: string;
  node: string | null;
  summary: string;
  since: string;
}

/**
 * Asked on the monitoring node, from the node itself: Alertmanager's API (on no host port) at its
 * container's address on the Docker network, with the node's curl. Not `docker exec` into it: the
 * container's small CPU limit makes a Go tool started there take seconds (seen in the lab: amtool
 * at 0.02 CPU never answered, and status waited for it).
 */
const ALERTS = [
  'ip=$(docker inspect -f "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}" "$1" | cut -d" " -f1) || exit 1',
  'exec curl -fsS --max-time 5 "http://$ip:9093/api/v2/alerts?active=true&silenced=false&inhibited=false"',
].join('\n');
export const alertsCommand = (): Command => root('sh', '-c', ALERTS, 'sh', containerName('alertmanager'));

/** The API's JSON (what amtool -o json prints too); null when it is not JSON (Alertmanager not answering). */
export function parseAlerts(stdout: string): FiringAlert[] | null {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return null;
  }
  if (!Array.isArray(doc)) return null;
  return doc
    .map((a: { labels?: Record<string, string>; annotations?: Record<string, string>; startsAt?: string }) => ({
      name: a.labels?.alertname ?? '?',
      severity: a.labels?.severity ?? 'none',
      node: a.labels?.node ?? null,
      summary: a.annotations?.summary ?? '',
      since: a.startsAt ?? '',
    }))
    .sort((x, y) => (x.severity === y.severity ? x.name.localeCompare(y.name) : x.severity === 'critical' ? -1 : 1));
}

/** What status says of them: each critical alert is a reason for "degraded"; warnings are listed only. */
export const criticalWarnings = (alerts: readonly FiringAlert[]): string[] =>
  alerts.filter((a) => a.severity === 'critical').map((a) => `alert ${a.name} firing${a.node ? ` on ${a.node}` : ''}: ${a.summary}`);
