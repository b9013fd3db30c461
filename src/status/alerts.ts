import { execIn } from '../remote/compose.js';
import type { Command } from '../remote/shell.js';

/** An alert Alertmanager holds as active (firing, not silenced or inhibited). */
export interface FiringAlert {
  name: string;
  severity: string;
  node: string | null;
  summary: string;
  since: string;
}

/** Asked on the monitoring node, inside Alertmanager's container (its API is on no host port): amtool ships with it. */
export const alertsCommand = (): Command => execIn('alertmanager', ['amtool', 'alert', 'query', '--alertmanager.url=http://127.0.0.1:9093', '-o', 'json']);

/** amtool's JSON; null when it is not JSON (Alertmanager not answering). */
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
