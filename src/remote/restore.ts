import { PATHS, STANZA } from '../backup/pgbackrest-config.js';
import { containerName, execIn } from './compose.js';
import { root, type Command } from './shell.js';

/**
 * The remote side of `restore` and `restore-test`: pgBackRest's restore and PostgreSQL's recovery
 * in a one-off container of the node's own Patroni image (its pgBackRest, its extensions, its
 * entrypoint installing the TLS files), run on the node as root.
 *
 * - `inplace`: into the Patroni container's own volumes (`--volumes-from`, Patroni stopped), with
 *   `--delta` (only changed files rewritten), recovered to the target, promoted, the recovery
 *   settings pgBackRest wrote taken out again, stopped cleanly — Patroni then starts on it.
 * - `scratch`: into a fresh volume, archiving off (nothing reaches the repository), started,
 *   asked a question, stopped, the container and the volume removed whatever happens.
 *
 * PostgreSQL runs in both only on a socket in /tmp (no TCP port), with peer authentication, no
 * synchronous standby to wait for, and without pg_cron and pg_net (no job, no HTTP call fires
 * from a restore).
 */
export const SCRATCH = 'twincigo-restore-test';
const PATRONI = containerName('patroni');
export const RESTORE_CONTAINER = 'twincigo-restore';

/** Runs as postgres inside the one-off container: $1 mode, the rest pgBackRest's restore options. */
const INNER = `set -eu
mode=$1; shift
D=$PGDATA
ms() { date +%s%3N; }
t0=$(ms)
mkdir -p -m 700 "$D"
if [ "$mode" = inplace ]; then set -- --delta "$@"; fi
pgbackrest --stanza=${STANZA} --log-level-console=warn "$@" restore
echo "@restored $(( $(ms) - t0 ))"
libs=$(postgres -D "$D" -C shared_preload_libraries | tr ',' '\\n' | tr -d ' ' | grep -v -x -e pg_cron -e pg_net -e '' | paste -sd, - || true)
printf 'local all all peer\\n' > /tmp/hba.conf
set -- -D "$D" -c listen_addresses= -c unix_socket_directories=/tmp -c hba_file=/tmp/hba.conf -c synchronous_standby_names= -c hot_standby=off -c "shared_preload_libraries=$libs"
if [ "$mode" = scratch ]; then set -- "$@" -c archive_mode=off -c shared_buffers=128MB; fi
postgres "$@" > /tmp/restore.log 2>&1 &
pid=$!
q() { psql -X -At -h /tmp -d postgres -v ON_ERROR_STOP=1 "$@"; }
until [ "$(q -c 'select pg_is_in_recovery()' 2>/dev/null)" = f ]; do
  if ! kill -0 $pid 2>/dev/null; then echo "PostgreSQL stopped during recovery:" >&2; tail -n 12 /tmp/restore.log >&2; exit 1; fi
  sleep 0.5
done
echo "@started $(( $(ms) - t0 ))"
grep -E 'recovery stopping|last completed transaction|selected new timeline|archive recovery complete|consistent recovery state' /tmp/restore.log | sed 's/^.*\\(LOG\\|FATAL\\): *//; s/^/@log /' || true
if [ "$mode" = inplace ]; then
  for p in restore_command recovery_target recovery_target_time recovery_target_name recovery_target_xid recovery_target_lsn recovery_target_action recovery_target_timeline recovery_target_inclusive; do q -q -c "alter system reset $p"; done
  q -q -c checkpoint
fi
echo "@answer $(q -F ' ' -c "select (select timeline_id from pg_control_checkpoint()), pg_database_size('postgres'), (select count(*) from pg_stat_user_tables)")"
pg_ctl -D "$D" stop -m fast -w > /dev/null
echo "@stopped $(( $(ms) - t0 ))"`;

/** Runs as root on the node: the image and the key PostgreSQL's extensions need from the Patroni container, then the one-off container. */
const OUTER = `set -eu
mode=$1; base=$2; shift 2
img=$(docker inspect -f '{{.Config.Image}}' ${PATRONI})
envf=$(mktemp); chmod 600 "$envf"
cleanup() { rm -f "$envf"; docker rm -f ${RESTORE_CONTAINER} >/dev/null 2>&1 || true; if [ "$mode" = scratch ]; then docker volume rm -f ${SCRATCH} >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT INT TERM
docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' ${PATRONI} | grep -E '^(PGSODIUM_ROOT_KEY|PGBACKREST_CONFIG)=' > "$envf" || true
if [ "$mode" = inplace ]; then
  if [ "$(docker inspect -f '{{.State.Running}}' ${PATRONI})" = true ]; then echo "Patroni is still running on this node" >&2; exit 1; fi
  set -- --volumes-from ${PATRONI} "$img" sh -c "$INNER" sh "$mode" "$@"
else
  avail=$(df -B1 --output=avail /var/lib/docker | tail -n 1 | tr -d ' ')
  if [ "$avail" -lt "$NEED" ]; then echo "ERROR: $((avail / 1048576)) MiB free under /var/lib/docker, the restore needs $((NEED / 1048576)) MiB" >&2; exit 1; fi
  docker rm -f ${RESTORE_CONTAINER} >/dev/null 2>&1 || true
  docker volume rm -f ${SCRATCH} >/dev/null 2>&1 || true
  set -- -v ${SCRATCH}:/var/lib/postgresql/data -v "$base/config/pgbackrest:/etc/twincigo/pgbackrest:ro" "$img" sh -c "$INNER" sh "$mode" "$@"
fi
docker run --rm --name ${RESTORE_CONTAINER} --network host --shm-size 256m --env-file "$envf" "$@"`;

/** pgBackRest restore + recovery into this node's PostgreSQL data (Patroni stopped), or into a scratch volume. */
export const restoreCommand = (mode: 'inplace' | 'scratch', baseDir: string, options: readonly string[], needBytes = 0): Command =>
  root('env', `INNER=${INNER}`, `NEED=${Math.ceil(needBytes)}`, 'sh', '-c', OUTER, 'sh', mode, baseDir, ...options);

/** This node's PostgreSQL data removed (Patroni stopped): Patroni then clones it from the leader. */
export const wipeDataCommand = (): Command =>
  root('sh', '-c', `set -eu
if [ "$(docker inspect -f '{{.State.Running}}' ${PATRONI})" = true ]; then echo "Patroni is still running on this node" >&2; exit 1; fi
docker run --rm --volumes-from ${PATRONI} --entrypoint sh "$(docker inspect -f '{{.Config.Image}}' ${PATRONI})" -c 'rm -rf ${PATHS.pgdata}'`);


/** The cluster's keys in etcd removed (every Patroni stopped): the restored member initialises it anew. */
export const forgetClusterCommand = (scope: string): Command =>
  execIn('etcd', ['etcdctl', '--endpoints=http://127.0.0.1:2379', 'del', '--prefix', `/service/${scope}/`]);

/** What the restore printed: its markers (@restored ms, @started ms, @stopped ms, @answer …, @log …). */
export interface RestoreOutput {
  restoredMs: number | null;
  startedMs: number | null;
  stoppedMs: number | null;
  timeline: number | null;
  databaseBytes: number | null;
  userTables: number | null;
  log: string[];
}

export function parseRestoreOutput(stdout: string): RestoreOutput {
  const mark = (k: string) => {
    const m = new RegExp(`^@${k} (\\d+)$`, 'm').exec(stdout);
    return m ? Number(m[1]) : null;
  };
  const answer = /^@answer (\d+) (\d+) (\d+)/m.exec(stdout);
  return {
    restoredMs: mark('restored'),
    startedMs: mark('started'),
    stoppedMs: mark('stopped'),
    timeline: answer ? Number(answer[1]) : null,
    databaseBytes: answer ? Number(answer[2]) : null,
    userTables: answer ? Number(answer[3]) : null,
    log: [...stdout.matchAll(/^@log (.*)$/gm)].map((m) => m[1]!.trim()),
  };
}
