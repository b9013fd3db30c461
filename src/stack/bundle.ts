import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { isSecretKey, keysFor } from '../config/env-keys.js';
import { missingKeys, type EnvValues } from '../config/env-file.js';
import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { ROLES } from '../config/roles.js';
import { alloyConfig } from './alloy-config.js';
import { offsiteEndpoint, readCa } from '../backup/offsite.js';
import { dbConfig, repoConfig, repositoriesFile, scheduleFile, tlsFiles } from '../backup/pgbackrest-config.js';
import { kongConfig } from './kong-config.js';
import { COMPOSE_DIR, composeFilesFor } from './compose-files.js';
import { haproxyConfig } from './haproxy-config.js';
import { patroniConfig } from './patroni-config.js';
import { CLONE_SCRIPT, cloneScript } from './clone-config.js';
import { blackboxConfig, prometheusConfig, type EdgeProbe } from './prometheus-config.js';
import { alertmanagerConfig, alertReceivers } from './alertmanager-config.js';
import { checkFits, limitsOverride, scaleLimits, serviceLimits, sizeFactors } from './resources.js';
import { etcdTimings } from './timings.js';
import { stackLimitsOn } from '../swarm/capacity.js';
import { OVERLAY_NETWORK, STACK_ROLES, usesSwarm } from '../swarm/services.js';
import { STACK_FILE, renderStack } from '../swarm/stack-file.js';

export interface BundleFile {
  /** Relative to the node's base dir. */
  path: string;
  content: string;
  mode: number;
  /** Holds secret values: 0600, never printed unredacted. */
  secret: boolean;
}

/** Everything uploaded to one node, and the compose files to pass with -f, in order. */
export interface NodeBundle {
  node: string;
  files: BundleFile[];
  composeFiles: string[];
}

export interface RenderOptions {
  /** etcd's --initial-cluster-state: "new" when the cluster is created, "existing" when a member joins one. */
  etcdState?: 'new' | 'existing';
}

const file = (path: string, content: string, secret = false): BundleFile => ({ path, content, mode: secret ? 0o600 : 0o644, secret });

/** The node's .env: its identity, the cluster wiring, every setting, and only the secrets its roles need. */
function nodeEnv(env: EnvironmentConfig, node: NodeConfig, values: EnvValues, opts: RenderOptions): string {
  const out = new Map<string, string>();
  out.set('COMPOSE_PROJECT_NAME', 'twincigo');
  out.set('NODE_NAME', node.name);
  out.set('NODE_IP', node.privateAddress);
  if (node.roles.includes('etcd')) {
    const t = etcdTimings(env.rttMs);
    const members = env.nodes.filter((n) => n.roles.includes('etcd'));
    out.set('ETCD_INITIAL_CLUSTER', members.map((m) => `${m.name}=http://${m.privateAddress}:2380`).join(','));
    out.set('ETCD_INITIAL_CLUSTER_STATE', opts.etcdState ?? 'new');
    out.set('ETCD_CLUSTER_TOKEN', `twincigo-${env.name}`);
    out.set('ETCD_HEARTBEAT_MS', String(t.heartbeatMs));
    out.set('ETCD_ELECTION_MS', String(t.electionMs));
  }
  const backend = env.nodes.find((n) => n.roles.includes('backend'));
  if (node.roles.includes('supabase') && backend) out.set('BACKEND_UPSTREAM', `${backend.privateAddress}:8080`);
  for (const [k, v] of Object.entries(values.values)) if (!isSecretKey(k) && v !== '') out.set(k, v);
  for (const [key, { spec }] of keysFor(node.roles, env.profile)) {
    const v = values.values[key];
    if (v !== undefined && v !== '' && !spec.operatorOnly) out.set(key, v);
  }
  const quote = (v: string) => (/^[A-Za-z0-9_./:@,+=-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  return `# Rendered by twincigo for ${node.name} (${env.name}); 0600, do not edit on the node.\n${[...out].map(([k, v]) => `${k}=${quote(v)}`).join('\n')}\n`;
}

/**
 * A config file shipped as is (compose/config/<name>): holds no secret, keys are substituted at
 * start. `dir`: files a service reloads in place live in a folder of their own, mounted as a
 * folder — a single-file bind mount keeps the old inode when the file is replaced atomically.
 */
const staticConfig = (name: string, dir = ''): BundleFile => file(`config/${dir ? `${dir}/` : ''}${name}`, readFileSync(`${COMPOSE_DIR}config/${name}`, 'utf8'));

function patroniImageFiles(): BundleFile[] {
  const dir = `${COMPOSE_DIR}images/patroni/`;
  return readdirSync(dir).map((f) => ({ ...file(`images/patroni/${f}`, readFileSync(dir + f, 'utf8')), mode: f.endsWith('.sh') ? 0o755 : 0o644 }));
}

/** Where bootstrap and deploy record the digest of the bundle a node runs (its `converged` marker). */
export const appliedFile = (baseDir: string) => `${baseDir}/.applied.json`;

/** One digest for everything a node is given: paths, modes and contents. Equal digests, equal nodes. */
export function bundleDigest(bundle: NodeBundle): string {
  const lines = bundle.files.map((f) => `${f.path} ${f.mode.toString(8)} ${createHash('sha256').update(f.content).digest('hex')}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** pgBackRest's files: a database node's (archive) and the repository host's (backup), each with its TLS certificate and key. */
function backupFiles(env: EnvironmentConfig, node: NodeConfig, v: Record<string, string>): BundleFile[] {
  const out: BundleFile[] = [];
  const seed = v.PGBACKREST_TLS_SEED;
  if (!seed || !(node.roles.includes('archive') || node.roles.includes('backup'))) return out;
  const tls = tlsFiles(env, node, seed);
  const certs = (dir: string) => [file(`${dir}/tls/ca.crt`, tls.ca), file(`${dir}/tls/node.crt`, tls.node.cert), file(`${dir}/tls/node.key`, tls.node.key, true)];
  const offsite = offsiteEndpoint(env, v);
  if (node.roles.includes('archive')) out.push(file('config/pgbackrest/pgbackrest.conf', dbConfig(env, node, Boolean(offsite))), ...certs('config/pgbackrest'));
  if (node.roles.includes('backup')) {
    const ca = env.backup.offsite?.caFile;
    out.push(
      file('config/pgbackrest-repo/pgbackrest.conf', repoConfig(env, offsite)),
      ...certs('config/pgbackrest-repo'),
      ...(offsite && ca ? [file('config/pgbackrest-repo/tls/s3-ca.crt', readCa(ca))] : []),
      file('config/pgbackrest-repo/schedule', scheduleFile(env)),
      file('config/pgbackrest-repo/repositories', repositoriesFile(Boolean(offsite))),
      file('config/pgbackrest-repo/schedule.sh', readFileSync(`${COMPOSE_DIR}config/pgbackrest-schedule.sh`, 'utf8')),
    );
  }
  return out;
}

/** The edge (prod: Caddy on the Supabase node) as the monitoring node probes it; the defaults are compose's. */
function edgeOf(env: EnvironmentConfig, v: Record<string, string>): EdgeProbe | undefined {
  const node = env.nodes.find((n) => n.roles.includes('supabase'));
  return node && { node, publicHost: v.PUBLIC_HOST || 'app.twincigo.com', issuer: v.TLS_ISSUER || v.ACME_EMAIL || '' };
}

/**
 * Swarm (prod): the stack file and its secrets' and configs' sources on every node that runs app
 * tasks (deploy runs `docker stack deploy` from one of them); Compose's app network on a node
 * whose pinned services the stack reaches (Redis, MinIO) is the stack's overlay.
 */
function swarmFiles(env: EnvironmentConfig, node: NodeConfig, v: Record<string, string>, composeFiles: string[]): BundleFile[] {
  const out: BundleFile[] = [];
  if (STACK_ROLES.some((r) => node.roles.includes(r))) {
    const stack = renderStack(env, v, {
      'config/kong.yml': kongConfig(env, 'backend:8080'),
      'config/Caddyfile': readFileSync(`${COMPOSE_DIR}config/Caddyfile.swarm`, 'utf8'),
    });
    out.push(file(STACK_FILE, stack.text), ...stack.sources.map((s) => file(s.path, s.content, s.secret)));
  }
  if (node.roles.includes('redis') || node.roles.includes('storage')) {
    out.push(file('compose/swarm-network.yml', `# Rendered by twincigo: this node's app network is the stack's overlay (${OVERLAY_NETWORK}), so app tasks on every node reach its services by name.\nnetworks:\n  app:\n    name: ${OVERLAY_NETWORK}\n    external: true\n`));
    composeFiles.push('compose/swarm-network.yml');
  }
  return out;
}

/** Renders one node. Throws ConfigError (exit 2) naming node, role and key when something is missing. */
export function renderNode(env: EnvironmentConfig, node: NodeConfig, values: EnvValues, opts: RenderOptions = {}): NodeBundle {
  const files: BundleFile[] = [];
  const composeFiles: string[] = [];
  const swarm = usesSwarm(env);
  for (const role of ROLES.filter((r) => node.roles.includes(r))) {
    for (const c of composeFilesFor(role, env)) {
      files.push(file(c.path, c.content));
      composeFiles.push(c.path);
    }
  }
  const f = sizeFactors(env);
  const sized = f.cpus !== 1 || f.memory !== 1;
  const profileLimits = serviceLimits(files.filter((x) => composeFiles.includes(x.path)));
  const limits = sized ? scaleLimits(profileLimits, f) : profileLimits;
  if (sized) {
    // another node size than the profile's: every limit scaled to it, in a file of its own
    files.push(file('limits.yml', limitsOverride(limits, env)));
    composeFiles.push('limits.yml');
  }
  if (node.roles.includes('patroni')) {
    // PostgreSQL's memory follows the container's limit, as the compose files set it
    const limit = limits.find((l) => l.service === 'patroni')?.memoryMiB ?? undefined;
    files.push(file('config/patroni/patroni.yml', patroniConfig(env, node, values.values, limit)));
    if (env.nodes.some((n) => n.roles.includes('backup'))) files.push({ ...file(CLONE_SCRIPT, cloneScript()), mode: 0o755 });
    files.push(...patroniImageFiles());
  }
  if (node.roles.includes('haproxy')) files.push(file('config/haproxy/haproxy.cfg', haproxyConfig(env.nodes)));
  const prod = env.profile === 'prod';
  if (swarm) files.push(...swarmFiles(env, node, values.values, composeFiles));
  else if (node.roles.includes('supabase')) {
    const backend = env.nodes.find((n) => n.roles.includes('backend'));
    files.push(file('config/kong.yml', kongConfig(env, backend && `${backend.privateAddress}:8080`)));
    if (prod) files.push(staticConfig('Caddyfile'));
  }
  if (node.roles.includes('logs')) files.push(file('config/alloy/config.alloy', alloyConfig(env, node)));
  files.push(...backupFiles(env, node, values.values));
  if (node.roles.includes('monitoring')) {
    // dev: Loki only; prod: Prometheus and Loki, and the cluster dashboard
    files.push(staticConfig('loki.yml'));
    files.push(prod ? { ...staticConfig('grafana-datasources.prod.yml'), path: 'config/grafana-datasources.yml' } : staticConfig('grafana-datasources.yml'));
    if (prod) {
      const edge = edgeOf(env, values.values);
      files.push(
        staticConfig('grafana-dashboards.yml'),
        file('config/dashboards/twincigo-cluster.json', readFileSync(`${COMPOSE_DIR}config/dashboards/twincigo-cluster.json`, 'utf8')),
        file('config/prometheus/prometheus.yml', prometheusConfig(env.nodes, edge)),
        ...(edge ? [file('config/blackbox.yml', blackboxConfig(edge))] : []),
        staticConfig('alerts.yml', 'prometheus'),
        // the receivers' URL and passwords: a secret file (Alertmanager runs as root to read it)
        file('config/alertmanager/alertmanager.yml', alertmanagerConfig(alertReceivers(values.values).receivers), true),
      );
    }
  }
  files.push(file('.env', nodeEnv(env, node, values, opts), true));
  return { node: node.name, files, composeFiles };
}

/**
 * Renders every node of the selection and says what is wrong with the result: keys missing from
 * the env file, and nodes whose services' limits exceed the node. A node that cannot be rendered
 * (a missing key) is left out when there are problems to report. Nothing is thrown for problems:
 * the caller adds what else it checks and refuses once (src/operations/gate.ts).
 */
export function renderAll(env: EnvironmentConfig, nodes: NodeConfig[], values: EnvValues, opts: RenderOptions = {}): { bundles: NodeBundle[]; problems: string[] } {
  const problems: string[] = [];
  for (const m of missingKeys(env, values, nodes)) {
    problems.push(`${m.key} is missing — ${m.about} (needed by ${m.roles.join(', ')} on ${m.nodes.join(', ')})`);
  }
  // rendered even with value problems, so that an over-committed node is reported with them
  const rendered = nodes.map((n) => {
    try {
      return renderNode(env, n, values, opts);
    } catch (err) {
      if (problems.length === 0) throw err;
      return null;
    }
  });
  const bundles = rendered.filter((b): b is NodeBundle => b !== null);
  for (const b of bundles) {
    const composed = b.files.filter((f) => b.composeFiles.includes(f.path));
    const node = env.nodes.find((n) => n.name === b.node)!;
    const stack = usesSwarm(env) ? stackLimitsOn(env, node) : [];
    problems.push(...checkFits(b.node, env, [...serviceLimits(composed), ...stack]));
  }
  return { bundles, problems };
}
