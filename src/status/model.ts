import type { FiringAlert } from './alerts.js';
import type { BackupStatus } from './backups.js';
import type { StackServiceStatus } from './stack.js';
/** The stable shape of `twincigo status --json` (documented in docs/commands.md). */
export interface ContainerStatus {
  service: string;
  state: string;
  health: string | null;
  restarts: number;
  startedAt: string | null;
}

export interface MemberStatus {
  name: string;
  host: string;
  reachable: boolean;
  /**
   * up; restarting (reachable, Patroni or a container still starting); unreachable (no SSH, but
   * Patroni still lists it: it may come back); gone (no SSH, and Patroni has dropped it: a machine
   * lost for good is what `node replace` is for). Set by the summary.
   */
  presence?: 'up' | 'restarting' | 'unreachable' | 'gone';
  error: string | null;
  sshMs: number | null;
  role: string | null;
  state: string | null;
  timeline: number | null;
  lagBytes: number | null;
  pendingRestart: boolean;
  etcd: { healthy: boolean; isLeader: boolean } | null;
  haproxy: { primary: string[]; replicas: string[] } | null;
  containers: ContainerStatus[];
  disk: { usedPct: number } | null;
  memory: { usedPct: number } | null;
  clockSkewMs: number | null;
}

export interface ClusterStatus {
  environment: string;
  healthy: boolean;
  exitCode: 0 | 3 | 4;
  leader: string | null;
  timeline: number | null;
  paused: boolean;
  etcd: { healthyMembers: number; members: number; quorum: boolean; leader: string | null };
  haproxy: { agree: boolean; primary: string | null };
  failoverReady: boolean;
  warnings: string[];
  members: MemberStatus[];
  /** Alertmanager's active alerts (prod: the monitoring node); null when there is none to ask or it did not answer. */
  alerts?: FiringAlert[] | null;
  /** The newest backup and WAL archiving (with a repository host); null when the repository host did not answer. */
  backups?: BackupStatus | null;
  /** Swarm (prod): each stack service's running/desired tasks and their nodes; null when no manager answered. */
  stack?: StackServiceStatus[] | null;
}

/** What one node's Patroni says of the cluster. */
export interface ClusterView {
  from: string;
  members: Array<{ name: string; role: string; state: string; host?: string; timeline?: number; lag?: number | string; pending_restart?: boolean }>;
  pause?: boolean;
}

/** Everything status read on one node. */
export interface NodeProbe {
  member: MemberStatus;
  cluster: ClusterView | null;
  /** What this node's Patroni says of itself. */
  self: {
    role?: string;
    state?: string;
    timeline?: number;
    pending_restart?: boolean;
    /** The WAL position now: the leader's `location`; a replica's received and replayed ones. */
    xlog?: { location?: number; received_location?: number; replayed_location?: number };
  } | null;
  etcdMemberId: string | null;
  etcdLeaderId: string | null;
}

