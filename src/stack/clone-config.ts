import { PATHS, STANZA } from '../backup/pgbackrest-config.js';

/**
 * How a new replica gets its copy of the database when the environment has a backup repository:
 * Patroni's first method restores the latest backup (pgBackRest restore on the replica, then WAL
 * from the archive and streaming from the leader); when it declines or fails, Patroni takes a base
 * backup from the leader. node replace/add clone from the leader unless `--clone-from backup`:
 * they leave a marker beside patroni.yml for the clone's duration, and the backup method declines.
 */
export const CLONE_SCRIPT = 'config/patroni/clone-from-backup.sh';
/** The marker, relative to the base dir (config/patroni is mounted at /etc/patroni). */
export const CLONE_FROM_LEADER = 'config/patroni/clone-from-leader';
/** Ends the catch-up restore_command line the clone script writes (found and dropped by it). */
export const CATCH_UP_MARK = '# twincigo: catch-up after a restore';

export const cloneScript = () => `#!/bin/sh
# Rendered by twincigo: Patroni's first way to create a replica (create_replica_methods).
set -eu
if [ -e /etc/patroni/clone-from-leader ]; then
  echo "clone from the leader asked (node replace --clone-from leader): not restoring a backup"
  exit 1
fi
# only when the repository answers and holds a backup (a new cluster's replicas come before it):
# otherwise decline at once, and Patroni takes a base backup from the leader
if ! timeout 30 pgbackrest --stanza=${STANZA} --output=json info > /tmp/clone-info.json 2>/tmp/clone-info.err \
  || ! grep -q '"status":{"code":0' /tmp/clone-info.json; then
  echo "no backup to restore from ($(tail -n 1 /tmp/clone-info.err)): not restoring a backup"
  exit 1
fi
pgbackrest --stanza=${STANZA} --delta --type=standby restore
# a restored copy starts far behind the leader — across timelines, past what the leader still
# keeps — so this replica replays from the archive until it can stream (measured: without it, a
# copy restored after three failovers waited for ever on "requested WAL segment … has already been
# removed"). Only this replica: in postgresql.base.conf, which Patroni's postgresql.conf includes
# and never rewrites; bounded, so a repository host that is down costs seconds, not minutes.
# For the catch-up only: node replace/add drop the line once the replica streams (a promotion asks
# the archive for timeline history first — with the repository host down, seconds per file).
echo "restore_command = 'timeout 30 pgbackrest --stanza=${STANZA} --io-timeout=5 archive-get %f %p' ${CATCH_UP_MARK}" >> ${PATHS.pgdata}/postgresql.base.conf
`;

/** patroni.yml's postgresql settings for the methods (inside the container). */
export const cloneMethods = () => ({
  create_replica_methods: ['pgbackrest', 'basebackup'],
  pgbackrest: { command: `/etc/patroni/${CLONE_SCRIPT.split('/').pop()}`, keep_data: true, no_params: true },
});
