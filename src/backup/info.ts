/**
 * `pgbackrest info --output=json`, read: the backups of the stanza (label, type, start/stop, size
 * on the database and in the repository, the WAL range each needs) and the archive's WAL range.
 */
export interface BackupEntry {
  label: string;
  type: 'full' | 'diff' | 'incr';
  start: string;
  stop: string;
  /** Bytes of the database the backup covers, and what it took in the repository (compressed, deduplicated). */
  databaseBytes: number;
  repositoryBytes: number;
  /** The first and last WAL segment the backup needs to be consistent. */
  walStart: string;
  walStop: string;
  /** The backup it depends on (diff/incr). */
  reference: string | null;
  /** The repository it is in: 1 the repository host's, 2 prod's offsite one. */
  repo: number;
}

export interface BackupInfo {
  stanza: string;
  /** pgBackRest's own status: 0 ok; else its message (e.g. "no valid backups", "missing stanza path"). */
  status: { code: number; message: string };
  backups: BackupEntry[];
  /** The archive's oldest and newest WAL segment. */
  wal: { min: string; max: string } | null;
}

interface RawBackup {
  label: string;
  type: string;
  timestamp: { start: number; stop: number };
  info?: { size?: number; repository?: { delta?: number; size?: number } };
  archive?: { start?: string; stop?: string };
  prior?: string | null;
  database?: { 'repo-key'?: number };
}
interface RawStanza {
  name: string;
  status: { code: number; message: string };
  backup?: RawBackup[];
  archive?: Array<{ min?: string | null; max?: string | null }>;
}

const iso = (sec: number) => new Date(sec * 1000).toISOString();

export function parseInfo(json: string): BackupInfo[] {
  const raw = JSON.parse(json) as RawStanza[];
  return raw.map((s) => {
    const archive = (s.archive ?? []).filter((a) => a.min && a.max);
    return {
      stanza: s.name,
      status: { code: s.status.code, message: s.status.message },
      backups: (s.backup ?? []).map((b) => ({
        label: b.label,
        type: b.type as BackupEntry['type'],
        start: iso(b.timestamp.start),
        stop: iso(b.timestamp.stop),
        databaseBytes: b.info?.size ?? 0,
        repositoryBytes: b.info?.repository?.delta ?? b.info?.repository?.size ?? 0,
        walStart: b.archive?.start ?? '',
        walStop: b.archive?.stop ?? '',
        reference: b.prior ?? null,
        repo: b.database?.['repo-key'] ?? 1,
      })),
      wal: archive.length ? { min: archive[0]!.min!, max: archive.at(-1)!.max! } : null,
    };
  });
}

/** Seconds since the newest backup finished (null: none). */
export function lastBackupAgeSec(info: BackupInfo, now = Date.now(), repo?: number): number | null {
  const last = info.backups.filter((b) => repo === undefined || b.repo === repo).at(-1);
  return last ? Math.max(0, Math.round((now - Date.parse(last.stop)) / 1000)) : null;
}
