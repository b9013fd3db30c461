import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { servicesFor } from '../stack/compose-files.js';
import { stackState, stackWarnings } from './stack.js';
import { summarize } from './summary.js';
import { alertsCommand, criticalWarnings, parseAlerts, type FiringAlert } from './alerts.js';
import { backupStatusCommand, backupWarnings, parseBackupStatus, type BackupStatus } from './backups.js';
import { repoHost } from '../backup/pgbackrest-config.js';
import { EXIT, TwincigoError, errorMessage } from '../errors.js';
import { isOperatorSide, type SshError } from '../ssh/errors.js';
import type { NodeExec } from '../ssh/persist/kept.js';
import type { ClusterStatus, ClusterView, ContainerStatus, MemberStatus, NodeProbe } from './model.js';

export type { ClusterView, NodeProbe } from './model.js';
import { parseProbe, probeCommand } from './probe.js';

const json = <T>(text: string | undefined): T | null => {
  if (!text) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
};

interface Inspect {
  Config?: { Labels?: Record<string, string> };
  State?: { Status?: string; StartedAt?: string; Health?: { Status?: string } };
  RestartCount?: number;
}

/** Each expected service's container, from Docker's inspect document; "missing" when there is none. */
function containers(services: readonly string[], docs: Array<string | null>): ContainerStatus[] {
  return services.map((service, i) => {
    const c = json<Inspect>(docs[i] ?? undefined);
    if (!c) return { service, state: 'missing', health: null, restarts: 0, startedAt: null };
    return { service, state: c.State?.Status ?? '?', health: c.State?.Health?.Status ?? null, restarts: c.RestartCount ?? 0, startedAt: c.State?.StartedAt ?? null };
  });
}

const pct = (text: string | undefined) => {
  const [used, total] = (text ?? '').split(',').map(Number);
  return used !== undefined && total ? { usedPct: Math.round((used / total) * 100) } : null;
};

/** Where status runs its probe: an SshPool, or KeptConnections (connections kept between commands). */
export interface ExecSource {
  get(node: NodeConfig): Promise<NodeExec>;
}

/** Probes one node within the connect timeout + a few seconds; never throws: an unreachable node is data. */
export async function probeNode(pool: ExecSource, node: NodeConfig, baseDir: string, services: readonly string[], timeoutMs: number): Promise<NodeProbe> {
  const member: MemberStatus = {
    name: node.name, host: node.host, reachable: false, error: null, sshMs: null, role: null, state: null, timeline: null, lagBytes: null,
    pendingRestart: false, etcd: null, haproxy: null, containers: [], disk: null, memory: null, clockSkewMs: null,
  };
  try {
    const conn = await pool.get(node);
    const sent = Date.now();
    const res = await conn.exec(probeCommand(baseDir, services), { timeoutMs });
    const rtt = Date.now() - sent;
    member.reachable = true;
    if (res.code !== 0 && res.stdout === '') throw new Error(res.stderr.trim().split('\n').at(-1) || `probe exited with ${res.code}`);
    const out = parseProbe(res.stdout, services.length);
    const s = out.parts;
    if (out.clock !== undefined && Number.isFinite(out.clock)) member.clockSkewMs = out.clock - (sent + rtt / 2);
    member.sshMs = rtt;
    member.containers = containers(services, out.containers);
    const self = json<NodeProbe['self'] & object>(s.patroni);
    const cluster = json<{ members?: ClusterView['members']; pause?: boolean }>(s.cluster);
    const etcdHealth = json<{ health?: string | boolean }>(s['etcd-health']);
    const etcdStatus = json<{ header?: { member_id?: string }; leader?: string }>(s['etcd-status']);
    if (etcdHealth || etcdStatus || node.roles.includes('etcd')) {
      member.etcd = { healthy: String(etcdHealth?.health) === 'true', isLeader: Boolean(etcdStatus?.leader && etcdStatus.leader === etcdStatus.header?.member_id) };
    }
    if (node.roles.includes('haproxy')) {
      const rows = (s.haproxy ?? '').split('\n').filter(Boolean).map((l) => l.split(','));
      // stats CSV: pxname, svname, … status is the 18th column
      const up = (px: string) => rows.filter((r) => r[0] === px && r[1] !== 'BACKEND' && r[1] !== 'FRONTEND' && r[17]?.startsWith('UP')).map((r) => r[1]!);
      member.haproxy = rows.length > 0 ? { primary: up('primary'), replicas: up('replicas') } : null;
    }
    member.disk = pct(out.disk);
    member.memory = pct(out.memory);
    return {
      member,
      cluster: cluster?.members ? { from: node.name, members: cluster.members, pause: cluster.pause } : null,
      self,
      etcdMemberId: etcdStatus?.header?.member_id ?? null,
      etcdLeaderId: etcdStatus?.leader ?? null,
    };
  } catch (err) {
    // our side (credentials, host keys, identity file) is not the cluster's state: the caller says so
    if (isOperatorSide(err)) throw err;
    member.error = errorMessage(err).replace(/^[^:]+: /, '');
    return { member, cluster: null, self: null, etcdMemberId: null, etcdLeaderId: null };
  }
}

/** Probes the nodes in parallel and summarizes: what `twincigo status` shows, and bootstrap's report. */
export async function clusterStatus(pool: ExecSource, env: EnvironmentConfig, nodes: readonly NodeConfig[], timeoutMs: number): Promise<ClusterStatus> {
  // Alertmanager is asked alongside the probes, not after them
  const asked = firingAlerts(pool, env, nodes, timeoutMs);
  asked.catch(() => undefined);
  const backupsAsked = backupState(pool, env, timeoutMs);
  backupsAsked.catch(() => undefined);
  const stackAsked = stackState(pool, env, timeoutMs);
  stackAsked.catch(() => undefined);
  const settled = await Promise.allSettled(nodes.map((n) => probeNode(pool, n, env.baseDir, servicesFor(n.roles, env), timeoutMs)));
  const ours = settled.flatMap((r) => (r.status === 'rejected' && isOperatorSide(r.reason) ? [r.reason as SshError] : []));
  if (ours.length > 0) throw operatorSideError(ours);
  const probes = settled.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
  const [alerts, backups, stack] = await Promise.all([asked, backupsAsked, stackAsked]);
  const status = summarize(env.name, env.nodes, probes, { synchronous: env.synchronous });
  const reasons: string[] = [];
  if (alerts !== undefined) {
    if (alerts === null) reasons.push('Alertmanager did not answer: firing alerts unknown');
    reasons.push(...criticalWarnings(alerts ?? []));
  }
  if (backups !== undefined) reasons.push(...backupWarnings(backups, env));
  if (stack !== undefined) reasons.push(...stackWarnings(stack, env));
  status.warnings.push(...reasons);
  const healthy = status.healthy && reasons.length === 0;
  return {
    ...status,
    ...(alerts !== undefined ? { alerts } : {}),
    ...(backups !== undefined ? { backups } : {}),
    ...(stack !== undefined ? { stack: stack.stack } : {}),
    healthy,
    exitCode: status.exitCode === 0 && !healthy ? 3 : status.exitCode,
  };
}

/** The repository's newest backup and the leader's archiver, asked on the repository host; undefined where there is none. */
async function backupState(pool: ExecSource, env: EnvironmentConfig, timeoutMs: number): Promise<BackupStatus | null | undefined> {
  const repo = repoHost(env);
  if (!repo) return undefined;
  try {
    const res = await (await pool.get(repo)).exec(backupStatusCommand(), { timeoutMs });
    return parseBackupStatus(res.stdout, repo.name, Date.now(), Boolean(env.backup.offsite));
  } catch (err) {
    if (isOperatorSide(err)) throw err;
    return null;
  }
}

/** Alertmanager's active alerts, asked on the monitoring node; undefined where the profile runs none (dev). */
async function firingAlerts(pool: ExecSource, env: EnvironmentConfig, nodes: readonly NodeConfig[], timeoutMs: number): Promise<FiringAlert[] | null | undefined> {
  const mon = nodes.find((n) => servicesFor(n.roles, env).includes('alertmanager'));
  if (!mon) return undefined;
  try {
    const res = await (await pool.get(mon)).exec(alertsCommand(), { timeoutMs });
    return res.code === 0 ? parseAlerts(res.stdout) : null;
  } catch (err) {
    if (isOperatorSide(err)) throw err;
    return null;
  }
}

/**
 * The nodes twincigo could not judge because of the operator's side: one error (exit 2 when it is
 * the set-up — identity file, no key — else 1), every node's reason and the hints, once each.
 */
export function operatorSideError(errors: SshError[]): TwincigoError {
  const code = errors.every((e) => e.exitCode === EXIT.usage) ? EXIT.usage : EXIT.failed;
  const hints = [...new Set(errors.flatMap((e) => e.hints))];
  const lines = errors.map((e) => e.message);
  return new TwincigoError(
    errors.length === 1 ? `cannot judge the cluster: ${lines[0]}` : `cannot judge the cluster from here:\n${lines.map((l) => `  - ${l}`).join('\n')}`,
    code,
    hints,
  );
}
