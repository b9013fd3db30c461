import { PATHS, STANZA } from '../backup/pgbackrest-config.js';
import { execIn } from './compose.js';
import { or, run, type Command } from './shell.js';

/** pgBackRest on the repository host, as postgres in its container (the config where it is mounted). */
export const pgbackrestRepo = (...args: string[]): Command => execIn('pgbackrest-repo', ['pgbackrest', `--stanza=${STANZA}`, ...args], { user: 'postgres' });

/**
 * The stanza created (idempotent: pgBackRest checks it matches the cluster), archiving checked end
 * to end, and a first full backup when the repository has none — a new cluster is backed up from
 * its first minute, not from the first scheduled night.
 */
const SETUP = [
  // every repository (prod: the offsite one too) gets the stanza, is checked, and gets a first full backup
  `pgbackrest --stanza=${STANZA} stanza-create`,
  `pgbackrest --stanza=${STANZA} check`,
  `for r in $(cat /etc/twincigo/pgbackrest/repositories 2>/dev/null || echo 1); do if pgbackrest --stanza=${STANZA} --repo=$r --output=json info | grep -qF '"backup":[]'; then pgbackrest --stanza=${STANZA} --repo=$r --type=full backup && echo "first full backup taken (repository $r)" || exit 1; fi; done`,
].join(' && ');
export const stanzaSetupCommand = (): Command => execIn('pgbackrest-repo', ['sh', '-c', SETUP], { user: 'postgres' });

/** Every backup and the archive's range, as JSON. */
export const infoCommand = (): Command => pgbackrestRepo('--output=json', 'info');

export const backupCommand = (type: 'full' | 'diff' | 'incr', repo = 1): Command => pgbackrestRepo(`--repo=${repo}`, `--type=${type}`, 'backup');

export const checkCommand = (): Command => pgbackrestRepo('check');

/**
 * Cuts WAL pushes in flight from a database node (PostgreSQL's archive_command): one started
 * against a repository host that died waits minutes for it (pgBackRest's connect retries). After
 * the repository host moved, PostgreSQL's archiver restarts and pushes again with the new config.
 */
export const cutArchivePushesCommand = (): Command => or(execIn('patroni', ['pkill', '-f', `pgbackrest --stanza=${STANZA} archive-push`]), run('true'));

/**
 * A replica restored from a backup replays from the archive until it streams (the clone script's
 * restore_command, marked); once it streams, the line is dropped and PostgreSQL reloads — else a
 * promotion of that replica would ask a repository host that is down for timeline history first
 * (measured: a failover's writes stopped for over 30 s). Prints `dropped` when it did something,
 * `catching-up` when the replica does not stream yet (the line kept).
 */
export const dropCatchUpRestoreCommand = (mark: string): Command => execIn('patroni', ['sh', '-c', [
  'f="$1/postgresql.base.conf"',
  'grep -qF "$2" "$f" 2>/dev/null || exit 0',
  // only once it streams: before, the archive is how it catches up
  'export PGPASSWORD="$PATRONI_SUPERUSER_PASSWORD"',
  'if [ "$(psql -X -qAt -h 127.0.0.1 -p 5432 -U postgres -d postgres -c "select status from pg_stat_wal_receiver")" != streaming ]; then echo catching-up; exit 0; fi',
  'grep -vF "$2" "$f" > "$f.new" && cat "$f.new" > "$f" && rm -f "$f.new"',
  'psql -X -qAt -h 127.0.0.1 -p 5432 -U postgres -d postgres -c "select pg_reload_conf()" >/dev/null',
  'echo dropped',
].join(' && '), 'sh', PATHS.pgdata, mark]);
