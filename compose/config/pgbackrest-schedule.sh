#!/bin/sh
# The repository host's backup schedule (runs as postgres in the pgbackrest-schedule container).
# Every minute (UTC), each line of `schedule` — "minute hour day-of-month month day-of-week type",
# cron's fields with *, lists, ranges and steps — that matches runs `pgbackrest backup` of that
# type, to each repository; when several match, the strongest (full > diff > incr). Expiry follows each backup
# (pgBackRest's retention). Output goes to the container's log (and so to Loki).
set -u
dir=${SCHEDULE_DIR:-/etc/twincigo/pgbackrest}
field() { # spec value lowest highest: does the cron field spec match the value?
  awk -v spec="$1" -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN {
    n = split(spec, parts, ","); v += 0
    for (i = 1; i <= n; i++) {
      p = parts[i]; step = 1
      if (split(p, s, "/") == 2) { p = s[1]; step = s[2] + 0 }
      if (p == "*") { a = lo; b = hi } else if (split(p, r, "-") == 2) { a = r[1] + 0; b = r[2] + 0 } else { a = p + 0; b = (step > 1 ? hi : a) }
      for (x = a; x <= b; x += step) if (x == v) exit 0
    }
    exit 1
  }'
}
due() { # the strongest backup type due at "M H D Mo W"
  best=""
  while read -r m h d mo w type; do
    case "$m" in ''|'#'*) continue ;; esac
    field "$m" "$1" 0 59 && field "$h" "$2" 0 23 && field "$d" "$3" 1 31 && field "$mo" "$4" 1 12 || continue
    # cron's Sunday is 0 or 7; date's is 7
    field "$w" "$5" 0 7 || { [ "$5" = 7 ] && field "$w" 0 0 7; } || continue
    case "$best$type" in full*|*full) best=full ;; diff*|*diff) best=diff ;; *) best=${best:-$type} ;; esac
  done < "$dir/schedule"
  echo "$best"
}
# `schedule.sh due M H D Mo W`: what would run then (the unit tests ask)
if [ "${1:-}" = due ]; then shift; due "$@"; exit 0; fi
last=""
echo "pgbackrest-schedule: $(grep -cv '^#' "$dir/schedule") schedule line(s); the clock is UTC"
while :; do
  now=$(date -u '+%M %H %d %m %u')
  if [ "$now" != "$last" ]; then
    last=$now
    # shellcheck disable=SC2086
    type=$(due $now)
    if [ -n "$type" ]; then
      # each repository in turn (`repositories`: "1", or "1 2" with prod's offsite one)
      for repo in $(cat "$dir/repositories" 2>/dev/null || echo 1); do
        echo "pgbackrest-schedule: $(date -u '+%FT%TZ') $type backup to repository $repo"
        pgbackrest --stanza=twincigo --repo="$repo" --type="$type" backup || echo "pgbackrest-schedule: $type backup to repository $repo FAILED (exit $?)"
      done
    fi
  fi
  sleep 15
done
