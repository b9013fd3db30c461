import { lastBackupAgeSec, parseInfo, type BackupInfo } from '../backup/info.js';
import { repoHost } from '../backup/pgbackrest-config.js';
import { EXIT, TwincigoError, UsageError } from '../errors.js';
import { backupCommand, checkCommand, infoCommand } from '../remote/pgbackrest.js';
import type { SshPool } from '../ssh/pool.js';
import type { Session } from '../session/session.js';
import { operate } from '../session/operation.js';

/** --repo: 1 (the repository host's) or 2 (prod's offsite one, where there is one). */
export function repoIndex(ctx: Session, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === '1') return 1;
  if (text === '2' && ctx.config.env.backup.offsite) return 2;
  throw new UsageError(`--repo ${text}: ${ctx.config.env.name} has ${ctx.config.env.backup.offsite ? 'repositories 1 and 2' : 'repository 1 only (the offsite repository 2 is prod\'s)'}`);
}

/** The repository host, or what to add to the inventory. */
export function repository(ctx: Session) {
  const repo = repoHost(ctx.config.env);
  if (!repo) throw new UsageError(`${ctx.config.env.name} has no repository host`, ['give one node the role "backup" in twincigo.yml, then bootstrap (or deploy)']);
  return repo;
}

export async function readInfo(pool: SshPool, ctx: Session): Promise<BackupInfo> {
  const conn = await pool.get(repository(ctx));
  const res = await conn.exec(infoCommand(), { timeoutMs: 60_000 });
  if (res.code !== 0) throw new TwincigoError(`pgbackrest info failed on ${repository(ctx).name}: ${res.stderr.trim().split('\n').slice(-2).join('; ') || `exit ${res.code}`}`);
  const info = parseInfo(res.stdout)[0];
  if (!info) throw new TwincigoError('pgbackrest info knows no stanza: bootstrap creates it (pgbackrest stanza-create)');
  return info;
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;

/** `twincigo backup [--type]`: taken by the repository host (from a streaming standby when there is one), under the environment's lock. */
export function backupRun(ctx: Session, o: { type: 'full' | 'diff' | 'incr'; repo?: string; lockWaitSec: number }): Promise<number> {
  const repo = repository(ctx);
  const index = repoIndex(ctx, o.repo) ?? 1;
  return operate(ctx, (op) =>
    op.locked(`backup --type ${o.type}`, o.lockWaitSec, async () => {
      const conn = await op.pool.get(repo);
      const started = performance.now();
      ctx.ui.info(`${o.type} backup on ${repo.name}${index === 2 ? ' to the offsite repository' : ''} …`);
      const res = await conn.exec(backupCommand(o.type, index), { timeoutMs: 6 * 3600_000, signal: op.signal, onStderr: (l) => ctx.ui.debug(l.trimEnd()) });
      const ms = Math.round(performance.now() - started);
      if (res.code !== 0) {
        const why = (res.stderr + res.stdout).split('\n').filter((l) => /ERROR|WARN/.test(l)).slice(-3).join('; ') || `exit ${res.code}`;
        await op.audit(`backup --type ${o.type}`, 'failed', why);
        throw new TwincigoError(`the ${o.type} backup failed: ${why}`);
      }
      const last = (await readInfo(op.pool, ctx)).backups.filter((b) => b.repo === index).at(-1)!;
      await op.audit(`backup --type ${o.type}`, 'ok', last.label);
      // pgBackRest copies the files from a standby after it has replayed up to the backup's start
      const fromStandby = /wait for replay on the standby/i.test(res.stdout + res.stderr);
      ctx.ui.json({ environment: ctx.config.env.name, backup: last, durationMs: ms, fromStandby });
      ctx.ui.print(`${last.label} (${last.type}${fromStandby ? ', from a standby' : ''}): ${mb(last.databaseBytes)} of database, ${mb(last.repositoryBytes)} in the repository, in ${(ms / 1000).toFixed(1)} s`);
      return EXIT.ok;
    }),
  );
}

/** `twincigo backup list`: every backup the repository keeps, and the WAL it has. */
export function backupList(ctx: Session): Promise<number> {
  return operate(ctx, async ({ pool }) => {
    const info = await readInfo(pool, ctx);
    ctx.ui.json({ environment: ctx.config.env.name, ...info, lastBackupAgeSec: lastBackupAgeSec(info) });
    const rows = info.backups.map((b) => `${b.label.padEnd(34)} ${b.type.padEnd(4)} ${b.start}  ${b.stop}  ${mb(b.databaseBytes).padStart(10)} ${mb(b.repositoryBytes).padStart(10)}  ${b.walStart}..${b.walStop}`);
    ctx.ui.print([`${'label'.padEnd(34)} type start${' '.repeat(21)}stop${' '.repeat(22)}${'database'.padStart(10)} ${'repository'.padStart(10)}  WAL`, ...rows, info.wal ? `archive: ${info.wal.min} .. ${info.wal.max}` : 'archive: empty', `status: ${info.status.message}`].join('\n'));
    return info.status.code === 0 ? EXIT.ok : EXIT.failed;
  });
}

/** `twincigo backup check`: archiving works end to end — pgBackRest forces a WAL switch on the primary and finds the segment in the repository. */
export function backupCheck(ctx: Session): Promise<number> {
  const repo = repository(ctx);
  return operate(ctx, async ({ pool }) => {
    const res = await (await pool.get(repo)).exec(checkCommand(), { timeoutMs: 180_000 });
    const ok = res.code === 0;
    const why = (res.stderr + res.stdout).split('\n').filter((l) => /ERROR/.test(l)).slice(-2).join('; ');
    ctx.ui.json({ environment: ctx.config.env.name, ok, error: ok ? null : why || `exit ${res.code}` });
    ctx.ui.print(ok ? `archiving works: a WAL segment reached the repository on ${repo.name}` : `archiving is broken: ${why || `exit ${res.code}`}`);
    return ok ? EXIT.ok : EXIT.failed;
  });
}
