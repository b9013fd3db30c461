import { lastBackupAgeSec, parseInfo, type BackupEntry, type BackupInfo } from '../backup/info.js';
import type { EnvironmentConfig } from '../config/model.js';
import { psqlQueryCommand } from '../cluster/psql.js';
import { infoCommand } from '../remote/pgbackrest.js';
import { or, redirect, run, seq, type Command } from '../remote/shell.js';

/** What status says of backups: the newest backup and how old it is, and whether WAL reaches the repository. */
export interface BackupStatus {
  repository: string;
  /** pgBackRest on the repository host answered (false: the backups are unknown). */
  answered: boolean;
  lastBackup: Pick<BackupEntry, 'label' | 'type' | 'stop'> | null;
  lastBackupAgeSec: number | null;
  /** prod's offsite repository (repo2): its newest backup; undefined without one. */
  offsite?: { lastBackup: Pick<BackupEntry, 'label' | 'type' | 'stop'> | null; lastBackupAgeSec: number | null };
  wal: {
    lastArchived: string | null;
    lastArchivedAgeSec: number | null;
    /** WAL written on the leader after the last archived segment (bytes); null when unknown. */
    unarchivedBytes: number | null;
    /** The last attempt to archive failed (pgBackRest could not push). */
    failing: boolean;
    lastFailed: string | null;
  } | null;
}

/**
 * The leader's archiver, through this node's HAProxy: the last archived and failed segments and
 * when, and how much WAL there is past the end of the last archived segment (16 MB segments).
 */
const ARCHIVER = `select coalesce(last_archived_wal, ''), coalesce(extract(epoch from last_archived_time)::bigint, 0), coalesce(extract(epoch from last_failed_time)::bigint, 0), coalesce(last_failed_wal, ''),
  case when last_archived_wal ~ '^[0-9A-F]{24}' then pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'::pg_lsn + (('x' || substr(last_archived_wal, 9, 8))::bit(32)::bigint * 4294967296 + (('x' || substr(last_archived_wal, 17, 8))::bit(32)::bigint + 1) * 16777216)::numeric)::bigint else -1 end
  from pg_stat_archiver`;

/**
 * One command on the repository host (a database node in the design's shape: its Patroni container
 * asks the leader through HAProxy): pgBackRest's info, a marker, the archiver's row.
 */
export const backupStatusCommand = (): Command =>
  seq(or(redirect(infoCommand(), { stderr: '/dev/null' }), run('echo', '@@info-failed')), run('echo', '@@archiver'), redirect(psqlQueryCommand(5000, ARCHIVER), { stderr: '/dev/null' }));

export function parseBackupStatus(stdout: string, repository: string, now = Date.now(), offsite = false): BackupStatus {
  const [infoText = '[]', archiver = ''] = stdout.split('@@archiver');
  const newest = (info: BackupInfo | undefined, repo: number) => {
    const last = info?.backups.filter((b) => b.repo === repo).at(-1);
    return { lastBackup: last ? { label: last.label, type: last.type, stop: last.stop } : null, lastBackupAgeSec: info && last ? lastBackupAgeSec(info, now, repo) : null };
  };
  let answered = !infoText.includes('@@info-failed');
  let info: BackupInfo | undefined;
  try {
    info = parseInfo(infoText.trim() || '[]')[0];
  } catch {
    answered = false; // not JSON: pgBackRest did not answer
  }
  const { lastBackup, lastBackupAgeSec: age } = newest(info, 1);
  const row = archiver.trim().split('\n').find((l) => l.includes('|'));
  let wal: BackupStatus['wal'] = null;
  if (row) {
    const [lastArchived = '', archivedAt = '0', failedAt = '0', lastFailed = '', unarchived = '-1'] = row.split('|');
    wal = {
      lastArchived: lastArchived || null,
      lastArchivedAgeSec: Number(archivedAt) > 0 ? Math.max(0, Math.round(now / 1000 - Number(archivedAt))) : null,
      unarchivedBytes: Number(unarchived) >= 0 ? Number(unarchived) : null,
      failing: Number(failedAt) > Number(archivedAt),
      lastFailed: lastFailed || null,
    };
  }
  return { repository, answered, lastBackup, lastBackupAgeSec: age, ...(offsite ? { offsite: newest(info, 2) } : {}), wal };
}

const ago = (sec: number) => (sec >= 7200 ? `${(sec / 3600).toFixed(1)} h` : `${Math.round(sec / 60)} min`);

/** The reasons backups make the cluster degraded: none yet or too old, WAL failing or behind. */
export function backupWarnings(b: BackupStatus | null, env: EnvironmentConfig): string[] {
  if (b === null) return ['backups unknown: the repository host did not answer'];
  const out: string[] = [];
  if (!b.answered) out.push(`backups unknown: pgBackRest on the repository host ${b.repository} did not answer (twincigo logs pgbackrest-repo)`);
  else if (!b.lastBackup) out.push(`no backup in the repository on ${b.repository}: twincigo backup --type full`);
  else if (b.lastBackupAgeSec !== null && b.lastBackupAgeSec > env.backup.maxBackupAgeMin * 60) {
    out.push(`the last backup (${b.lastBackup.label}) is ${ago(b.lastBackupAgeSec)} old (limit ${ago(env.backup.maxBackupAgeMin * 60)}): is the schedule running? twincigo logs pgbackrest-schedule`);
  }
  if (b.answered && b.offsite && !b.offsite.lastBackup) out.push(`no backup in the offsite repository (repo2): twincigo backup --repo 2 --type full`);
  else if (b.offsite?.lastBackupAgeSec != null && b.offsite.lastBackupAgeSec > env.backup.maxBackupAgeMin * 60) {
    out.push(`the last offsite backup (${b.offsite.lastBackup!.label}) is ${ago(b.offsite.lastBackupAgeSec)} old (limit ${ago(env.backup.maxBackupAgeMin * 60)}): twincigo logs pgbackrest-schedule`);
  }
  if (!b.wal) out.push('WAL archiving unknown: the leader did not answer');
  else if (b.wal.failing) out.push(`WAL archiving is failing (last failed: ${b.wal.lastFailed ?? '?'}): twincigo backup check`);
  else if ((b.wal.unarchivedBytes ?? 0) > 0 && b.wal.lastArchivedAgeSec !== null && b.wal.lastArchivedAgeSec > env.backup.maxWalAgeMin * 60) {
    out.push(`WAL archiving is behind: nothing archived for ${ago(b.wal.lastArchivedAgeSec)} while ${Math.round(b.wal.unarchivedBytes! / 1024)} kB wait (limit ${env.backup.maxWalAgeMin} min)`);
  }
  return out;
}
