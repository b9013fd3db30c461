#!/usr/bin/env bash
# npm run bench: the benchmarks of BENCHMARKS.md. Medians, each against a baseline measured in the
# same run. Needs tests/setup-machine.sh (sshd, the twincigo-sudo test user) and `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run -s build
echo "== twincigo --help cold start vs bare node"
node tests/bench/startup.ts
echo "== one command on 3 local sshd's through the SSH transport"
node tests/bench/ssh-exec.ts
if [ "${BENCH_LAB:-1}" = 1 ]; then
  echo "== lab:up cold (from nothing) and warm (images cached)"
  bash tests/bench/lab.sh
  echo "== twincigo status on the lab"
  node tests/bench/status.ts
fi
if [ "${BENCH_LAB:-1}" = 1 ]; then
  echo "== twincigo bootstrap on the lab (bare nodes with images → healthy; no-op re-run)"
  node tests/bench/bootstrap.ts
fi
if [ "${BENCH_LAB:-1}" = 1 ]; then
  echo "== twincigo deploy on the lab (no-op; write outage of a restart-only parameter change)"
  node tests/bench/deploy.ts
fi
if [ "${BENCH_LAB:-1}" = 1 ]; then
  echo "== twincigo migrate up on the lab (200 small migrations)"
  node tests/bench/migrate.ts
fi
if [ "${BENCH_LAB:-1}" = 1 ]; then
  echo "== twincigo failover-test on the lab (every scenario, median of 3; Patroni defaults and synchronous mode for reference)"
  node tests/bench/failover.ts
fi
if [ "${BENCH_LAB:-1}" = 1 ]; then
  echo "== the prod profile on the lab (lab-prod): bootstrap; commit latency and kill-leader, sync vs async; switchover"
  TWINCIGO_LAB_SET=prod node tests/bench/prod.ts
fi
if [ "${BENCH_LAB:-1}" = 1 ]; then
  echo "== prod's app tier on Swarm (lab-prod): deploy of a new backend image vs no-op; API outage vs write outage (app-node-down, node-down, partition), tasks killed as unhealthy"
  TWINCIGO_LAB_SET=prod node tests/bench/swarm.ts
fi
if [ "${BENCH_LAB:-1}" = 1 ]; then
  echo "== backups on the lab (a 1 GB database: full/incr backup, restore-test, restore --to latest, RPO)"
  node tests/bench/backup.ts
fi
if [ "${BENCH_LAB:-1}" = 1 ]; then
  echo "== twincigo node replace on the lab (1 GB database; a replica's machine replaced, cloned from the backup vs the leader)"
  node tests/bench/replace.ts
fi
