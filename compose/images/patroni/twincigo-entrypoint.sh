#!/bin/sh
# Starts as root only to install pgBackRest's TLS files for postgres: the node's key arrives as a
# root-only 0600 file (mounted with the rest at /etc/twincigo/pgbackrest); postgres gets its own
# 0600 copies in /etc/pgbackrest/tls. pgbackrest.conf is read where it is mounted (PGBACKREST_CONFIG),
# so a changed config needs no restart. Then the command (Patroni, pgBackRest's server) runs as postgres.
set -eu
src=/etc/twincigo/pgbackrest
if [ -d "$src" ]; then
  install -d -o postgres -g postgres -m 0700 /etc/pgbackrest /etc/pgbackrest/tls
  for f in tls/ca.crt tls/node.crt tls/node.key; do
    if [ -f "$src/$f" ]; then install -o postgres -g postgres -m 0600 "$src/$f" "/etc/pgbackrest/$f"; fi
  done
fi
if [ "$(id -u)" = 0 ]; then exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; fi
exec "$@"
