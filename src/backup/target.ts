import { UsageError } from '../errors.js';
import type { BackupInfo } from './info.js';

/**
 * Where a restore goes (`--to`): the end of the archive (`latest`), the consistent end of one
 * backup (its label), or a point in time — every transaction committed at or before it, none after.
 */
export type RestoreTarget = { kind: 'latest' } | { kind: 'label'; label: string } | { kind: 'time'; at: Date };

const LABEL = /^\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?$/;
/** A time with its zone (Z or ±hh:mm); a bare date-time would be read in someone's local zone. */
const TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)(Z|[+-]\d{2}(:?\d{2})?)$/;

export function parseTarget(text: string): RestoreTarget {
  const t = text.trim();
  if (t === 'latest') return { kind: 'latest' };
  if (LABEL.test(t)) return { kind: 'label', label: t };
  const m = TIME.exec(t);
  const at = m ? new Date(`${m[1]}T${m[2]}${m[5] === 'Z' ? 'Z' : m[5]!.length === 3 ? `${m[5]}:00` : m[5]!.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')}`) : undefined;
  if (!at || Number.isNaN(at.getTime())) {
    throw new UsageError(`--to ${text}: not a time, a backup label or "latest"`, [
      'a time with its zone: --to 2026-11-30T12:00:00Z or --to "2026-11-30 13:00:00+01:00"',
      'a label from twincigo backup list: --to 20261130-120000F',
      'the end of the archive: --to latest',
    ]);
  }
  return { kind: 'time', at };
}

/** The target checked against what the repository holds: a label it keeps, a time it can reach. */
export function checkTarget(target: RestoreTarget, all: BackupInfo, now = new Date(), repo?: number): void {
  const info = repo ? { ...all, backups: all.backups.filter((b) => b.repo === repo) } : all;
  if (info.backups.length === 0) throw new UsageError('the repository holds no backup: nothing to restore from', ['twincigo backup --type full']);
  if (target.kind === 'label' && !info.backups.some((b) => b.label === target.label)) {
    throw new UsageError(`no backup labelled ${target.label}`, [`twincigo backup list shows the labels: ${info.backups.map((b) => b.label).join(', ')}`]);
  }
  if (target.kind === 'time') {
    const first = info.backups[0]!;
    if (target.at.getTime() < Date.parse(first.stop)) {
      throw new UsageError(`${target.at.toISOString()} is before the oldest backup's end (${first.stop}): no backup can reach it`, ['a time after it, or --to ' + first.label]);
    }
    if (target.at.getTime() > now.getTime()) throw new UsageError(`${target.at.toISOString()} is in the future`, ['--to latest restores everything archived']);
  }
}

/** pgBackRest's restore options for a target (always promoted: the restored cluster leads on a new timeline). */
export function restoreOptions(target: RestoreTarget, repo?: number): string[] {
  return [...(repo ? [`--repo=${repo}`] : []), ...targetOptions(target)];
}

function targetOptions(target: RestoreTarget): string[] {
  switch (target.kind) {
    // the archive replayed to its end; PostgreSQL then ends recovery and promotes by itself
    case 'latest':
      return ['--type=default', '--target-timeline=latest'];
    case 'label':
      return [`--set=${target.label}`, '--type=immediate', '--target-action=promote'];
    case 'time':
      // pgBackRest picks the newest backup that ended before the time; the timeline followed is the
      // newest (a failover after the backup continues on timeline 2, 3 …)
      return ['--type=time', `--target=${pgTime(target.at)}`, '--target-action=promote', '--target-timeline=latest'];
  }
}

/** PostgreSQL's timestamptz input, in UTC with milliseconds. */
export const pgTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '+00');

export const describeTarget = (t: RestoreTarget) =>
  t.kind === 'latest' ? 'the end of the archive' : t.kind === 'label' ? `backup ${t.label}` : `${t.at.toISOString()} (every commit up to it, none after)`;
