import { FAILOVER_MAX_LAG, isLeaderRole } from '../cluster/patroni.js';
import type { NodeConfig } from '../config/model.js';
import type { ClusterStatus, MemberStatus, NodeProbe } from './model.js';

export const CLOCK_SKEW_WARN_MS = 1000;

/**
 * The node's clock is read somewhere inside the probe's round trip, so the estimate is only good to
 * ±rtt/2: on a loaded machine a 3 s probe alone makes a perfect clock look 1.5 s off. Warn only
 * when the skew exceeds the limit even at the near end of that interval.
 */
export function clockSkewCertain(m: Pick<MemberStatus, 'clockSkewMs' | 'sshMs'>): boolean {
  if (m.clockSkewMs === null) return false;
  return Math.abs(m.clockSkewMs) - (m.sshMs ?? 0) / 2 > CLOCK_SKEW_WARN_MS;
}

/**
 * Synchronous replication with no synchronous standby (it was lost, or Patroni has not yet picked
 * one after a failover): writes go on (synchronous_mode_strict is off) but are acknowledged before
 * any standby has them — what a failover then loses.
 */
function synchronousWarnings(synchronous: boolean | undefined, leader: string | null, replicas: MemberStatus[]): string[] {
  if (!synchronous || leader === null || replicas.some((m) => m.role === 'sync_standby')) return [];
  return ['synchronous replication is on, but no member is the synchronous standby: commits are acknowledged asynchronously until one streams again'];
}

/** Patroni states of a member on its way up (or being rebuilt). */
const STARTING = new Set(['starting', 'restarting', 'creating replica', 'running custom bootstrap script', 'initializing new cluster']);

/** Tells a node that is gone (Patroni dropped it) from one that is only out of reach or restarting. */
function presenceOf(m: MemberStatus, view: NodeProbe['cluster'], nodes: NodeConfig[]): NonNullable<MemberStatus['presence']> {
  const patroni = nodes.find((n) => n.name === m.name)?.roles.includes('patroni');
  if (!m.reachable) return patroni && view && !view.members.some((x) => x.name === m.name) ? 'gone' : 'unreachable';
  const starting = (m.state !== null && STARTING.has(m.state)) || m.containers.some((c) => c.state === 'restarting' || c.health === 'starting');
  return starting ? 'restarting' : 'up';
}

function reachWarnings(m: MemberStatus): string[] {
  if (m.presence === 'gone') return [`${m.name} is gone: unreachable (${m.error ?? 'no answer'}) and no longer a Patroni member — a machine lost for good is replaced with \`twincigo node replace ${m.name}\``];
  return m.reachable ? [] : [`${m.name} is unreachable: ${m.error ?? 'no answer'}`];
}

const lagOf = (lag: number | string | undefined): number | null => (typeof lag === 'number' ? lag : lag === undefined ? 0 : null);

/**
 * A replica's lag. Patroni's /cluster figure subtracts the replica's position as its member key last
 * said it (refreshed once per loop_wait) from the leader's last optime (refreshed on the leader's own
 * loop): right after a WAL switch one key can be 16 MiB ahead of the other for a few seconds (measured:
 * 1 poll in 360 around 10 switches) though the replica has everything. The positions each node's
 * Patroni reports of itself, read in the same probe round, are the other estimate. A replica really
 * behind is behind in both, so the smaller one is its lag — what Patroni's own failover check sees is
 * the replica's live position too.
 */
function lagBytes(clusterLag: number | string | undefined, self: NodeProbe['self'], leaderSelf: NodeProbe['self']): number | null {
  const fromCluster = lagOf(clusterLag);
  const at = leaderSelf?.xlog?.location;
  const got = Math.max(self?.xlog?.received_location ?? -1, self?.xlog?.replayed_location ?? -1);
  const live = typeof at === 'number' && got >= 0 ? Math.max(0, at - got) : null;
  if (fromCluster === null || live === null) return fromCluster ?? live;
  return Math.min(fromCluster, live);
}

/** Fills in one member from the cluster view and its own Patroni; returns what is wrong with it. */
function readMember(m: MemberStatus, view: NodeProbe['cluster'], self: NodeProbe['self'], leaderSelf: NodeProbe['self'], nodes: NodeConfig[]): string[] {
  const warnings: string[] = [];
  const v = view?.members.find((x) => x.name === m.name);
  m.role = v?.role ?? (self?.role === 'master' ? 'primary' : (self?.role ?? null));
  m.state = v?.state ?? self?.state ?? null;
  m.timeline = v?.timeline ?? self?.timeline ?? null;
  m.lagBytes = v && !isLeaderRole(v.role) ? lagBytes(v.lag, self, leaderSelf) : v ? 0 : null;
  m.pendingRestart = Boolean(v?.pending_restart ?? self?.pending_restart);
  m.presence = presenceOf(m, view, nodes);
  warnings.push(...reachWarnings(m));
  if (clockSkewCertain(m)) warnings.push(`${m.name}: clock is ${Math.round(m.clockSkewMs!)} ms off this machine's (±${Math.round((m.sshMs ?? 0) / 2)} ms)`);
  for (const c of m.containers) {
    if (c.state !== 'running') warnings.push(`${m.name}: ${c.service} is ${c.state}`);
    else if (c.health === 'unhealthy') warnings.push(`${m.name}: ${c.service} is unhealthy`);
  }
  return warnings;
}

/** Turns the per-node probes into the cluster's status: leader, quorum, agreement, warnings, exit code. */
export function summarize(environment: string, nodes: NodeConfig[], probes: NodeProbe[], opts: { synchronous?: boolean } = {}): ClusterStatus {
  const warnings: string[] = [];
  const members: MemberStatus[] = probes.map((p) => p.member);
  const views = probes.flatMap((p) => (p.cluster ? [p.cluster] : []));
  const leaderOf = (v: (typeof views)[number]) => v.members.find((m) => isLeaderRole(m.role))?.name ?? null;
  const leaders = [...new Set(views.map(leaderOf).filter((l): l is string => l !== null))];
  if (leaders.length > 1) warnings.push(`Patroni members disagree about the leader: ${leaders.join(' vs ')}`);
  const view = views.find((v) => leaderOf(v) !== null) ?? views[0] ?? null;
  const leader = view ? leaderOf(view) : null;

  const leaderSelf = probes.find((p) => p.member.name === leader)?.self ?? null;
  for (const m of members) warnings.push(...readMember(m, view, probes.find((p) => p.member.name === m.name)?.self ?? null, leaderSelf, nodes));

  const claimers = probes.filter((p) => p.self?.role === 'primary' || p.self?.role === 'master').map((p) => p.member.name);
  if (claimers.length > 1) warnings.push(`two members claim to be primary: ${claimers.join(', ')}`);

  const patroniNodes = nodes.filter((n) => n.roles.includes('patroni'));
  for (const n of patroniNodes) {
    if (view && !view.members.some((x) => x.name === n.name)) warnings.push(`${n.name}: no Patroni member registered in the cluster`);
  }
  const timelines = new Set(members.map((m) => m.timeline).filter((t): t is number => t !== null));
  if (timelines.size > 1) warnings.push(`timeline mismatch: ${members.filter((m) => m.timeline !== null).map((m) => `${m.name} ${m.timeline}`).join(', ')}`);

  const haViews = members.filter((m) => m.haproxy !== null);
  const haPrimary = new Set(haViews.map((m) => m.haproxy!.primary.join('+')));
  const haAgree = haViews.length > 0 && haPrimary.size === 1 && haViews[0]!.haproxy!.primary.length === 1;
  const haTarget = haAgree ? haViews[0]!.haproxy!.primary[0]! : null;
  if (haViews.length > 0 && !haAgree) warnings.push(`HAProxy instances disagree about the primary: ${haViews.map((m) => `${m.name} → ${m.haproxy!.primary.join('+') || 'none'}`).join(', ')}`);
  if (haTarget && leader && haTarget !== leader) warnings.push(`HAProxy routes :5000 to ${haTarget}, but Patroni's leader is ${leader}`);

  const etcdNodes = nodes.filter((n) => n.roles.includes('etcd'));
  const etcdHealthy = members.filter((m) => m.etcd?.healthy).length;
  const leaderIds = new Set(probes.map((p) => p.etcdLeaderId).filter(Boolean));
  const etcdLeader = probes.find((p) => p.etcdMemberId && leaderIds.has(p.etcdMemberId))?.member.name ?? null;
  const quorum = etcdHealthy > etcdNodes.length / 2;
  if (etcdHealthy < etcdNodes.length) warnings.push(`etcd: ${etcdHealthy} of ${etcdNodes.length} members healthy${quorum ? '' : ' — NO QUORUM'}`);

  const replicas = members.filter((m) => m.role === 'replica' || m.role === 'sync_standby');
  const eligible = replicas.filter((m) => m.state === 'streaming' && m.lagBytes !== null && m.lagBytes <= FAILOVER_MAX_LAG);
  const failoverReady = eligible.length > 0;
  if (leader && !failoverReady) warnings.push('no replica could take over: none is streaming within the failover lag limit');
  if (view?.pause) warnings.push('Patroni is paused (maintenance mode): no automatic failover');

  const allStreaming = replicas.length === patroniNodes.length - 1 && replicas.every((m) => m.state === 'streaming');
  // every reason for "not healthy" is named: a replica still starting or catching up is one
  for (const m of replicas) if (m.state !== 'streaming' && m.reachable) warnings.push(`${m.name}: replica is ${m.state ?? 'in an unknown state'}, not streaming`);
  if (leader && replicas.length < patroniNodes.length - 1) {
    const missing = patroniNodes.filter((n) => n.name !== leader && !replicas.some((r) => r.name === n.name)).map((n) => n.name);
    if (missing.length > 0 && !warnings.some((w) => missing.some((x) => w.startsWith(`${x}`)))) warnings.push(`not a replica: ${missing.join(', ')}`);
  }
  warnings.push(...synchronousWarnings(opts.synchronous, leader, replicas));
  const healthy = leader !== null && warnings.length === 0 && allStreaming && quorum;
  return {
    environment,
    healthy,
    exitCode: leader === null ? 4 : healthy ? 0 : 3,
    leader,
    timeline: members.find((m) => m.name === leader)?.timeline ?? null,
    paused: Boolean(view?.pause),
    etcd: { healthyMembers: etcdHealthy, members: etcdNodes.length, quorum, leader: etcdLeader },
    haproxy: { agree: haAgree, primary: haTarget },
    failoverReady,
    warnings,
    members,
  };
}
