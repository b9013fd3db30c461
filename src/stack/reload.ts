import { containerName } from '../remote/compose.js';
import { root, type Command } from '../remote/shell.js';

/** pgBackRest's CA, certificate and key in a config folder, for each service that installs them at start. */
function tlsInstalledAtStart(dir: string, services: readonly string[]) {
  return ['ca.crt', 'node.crt', 'node.key'].flatMap((f) => services.map((service) => ({ file: `${dir}/tls/${f}`, service, how: 'restart' as const, why: 'installed for postgres at start' })));
}

/**
 * Config files that services read from a bind mount: compose does not see their content, so a
 * changed file leaves the running container as it was. Each names how its service takes a new
 * version: a signal (reload in place) or a restart.
 */
export const CONFIG_RELOAD: ReadonlyArray<{ file: string; service: string; how: { signal: string } | 'restart'; why: string }> = [
  { file: 'config/haproxy/haproxy.cfg', service: 'haproxy', how: { signal: 'USR2' }, why: 'master-worker reload: new workers, established connections kept' },
  { file: 'config/patroni/patroni.yml', service: 'patroni', how: { signal: 'HUP' }, why: 'Patroni reloads; PostgreSQL parameters that need a restart show as pending restart' },
  { file: 'config/kong.yml', service: 'kong', how: 'restart', why: 'declarative config is read at start' },
  { file: 'config/grafana-datasources.yml', service: 'grafana', how: 'restart', why: 'provisioning is read at start' },
  { file: 'config/grafana-dashboards.yml', service: 'grafana', how: 'restart', why: 'provisioning is read at start' },
  { file: 'config/dashboards/twincigo-cluster.json', service: 'grafana', how: 'restart', why: 'provisioned dashboards are read at start' },
  { file: 'config/prometheus/prometheus.yml', service: 'prometheus', how: { signal: 'HUP' }, why: 'Prometheus reloads on SIGHUP' },
  { file: 'config/prometheus/alerts.yml', service: 'prometheus', how: { signal: 'HUP' }, why: 'rule files reload with the config' },
  { file: 'config/alertmanager/alertmanager.yml', service: 'alertmanager', how: { signal: 'HUP' }, why: 'Alertmanager reloads on SIGHUP' },
  { file: 'config/Caddyfile', service: 'caddy', how: 'restart', why: 'the TLS entry point is small and restarts in a second' },
  { file: 'config/blackbox.yml', service: 'blackbox', how: { signal: 'HUP' }, why: 'the blackbox exporter reloads its modules on SIGHUP' },
  { file: 'config/loki.yml', service: 'loki', how: 'restart', why: 'Loki reads its config at start' },
  { file: 'config/alloy/config.alloy', service: 'alloy', how: 'restart', why: 'the agent reads its config at start (its read positions survive)' },
  // pgBackRest's servers read their config and TLS files at start; archive-push reads the config at each call
  { file: 'config/pgbackrest/pgbackrest.conf', service: 'pgbackrest', how: 'restart', why: "the TLS server reads its config at start" },
  { file: 'config/pgbackrest-repo/pgbackrest.conf', service: 'pgbackrest-repo', how: 'restart', why: "the repository's TLS server reads its config at start" },
  { file: 'config/pgbackrest-repo/schedule.sh', service: 'pgbackrest-schedule', how: 'restart', why: 'the scheduler is this script (it reads the schedule every minute)' },
  // the TLS files are installed for postgres when a container starts (Patroni's copy too: a new CA,
  // after PGBACKREST_TLS_SEED is rotated, reaches archive-push at Patroni's next restart); the
  // scheduler's backups use its own installed copies
  ...tlsInstalledAtStart('config/pgbackrest', ['pgbackrest']),
  ...tlsInstalledAtStart('config/pgbackrest-repo', ['pgbackrest-repo', 'pgbackrest-schedule']),
  { file: 'config/pgbackrest-repo/tls/s3-ca.crt', service: 'pgbackrest-repo', how: 'restart', why: 'the server reads the offsite CA when it connects; restarted to be sure no old connection keeps the old one' },
];

/** Config files their services read at each use: a new version needs nothing. */
export const READ_LIVE: readonly string[] = ['config/pgbackrest-repo/schedule', 'config/pgbackrest-repo/repositories'];

/** The services whose config files (paths relative to the base dir) changed, once each. */
export function servicesToReload(changedFiles: readonly string[], services: readonly string[]): Array<(typeof CONFIG_RELOAD)[number]> {
  const seen = new Set<string>();
  return CONFIG_RELOAD.filter((c) => changedFiles.includes(c.file) && services.includes(c.service) && !seen.has(c.service) && seen.add(c.service));
}

/**
 * A signal goes to the container's main process from inside (`kill` in a `docker exec`), never with
 * `docker kill --signal`: Docker marks a container it sent any signal to as stopped by hand, and its
 * `unless-stopped` policy then keeps it down after the node reboots (seen in the lab: after a deploy
 * reloaded patroni.yml, a node that lost power came back without Patroni).
 */
export function reloadCommand(entry: (typeof CONFIG_RELOAD)[number]): Command {
  const c = containerName(entry.service);
  return entry.how === 'restart' ? root('docker', 'restart', c) : root('docker', 'exec', c, 'sh', '-c', 'kill -s "$1" 1', 'sh', entry.how.signal);
}
