#!/usr/bin/env bash
# Benchmark: cold `lab:up` from nothing (no lab image, empty registry cache) and warm `lab:up`
# (images cached, after lab:down), medians of the warm runs. Targets: cold ≤ 6 min, warm ≤ 30 s.
# Baseline measured in the same run: starting three plain containers of the node image.
set -euo pipefail
cd "$(dirname "$0")/../.."
WARM_RUNS=${WARM_RUNS:-3}
t() { local s=$(date +%s%N); "$@" >/tmp/twincigo-bench-lab.log 2>&1 || { cat /tmp/twincigo-bench-lab.log; exit 1; }; echo $(( ($(date +%s%N) - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

npm run -s lab:down -- --purge >/dev/null 2>&1
cold=$(t npm run -s lab:up)
steps=$(grep -E 'done in' /tmp/twincigo-bench-lab.log | sed -E 's/^\[lab +[0-9.]+s\] //' | paste -sd ';' -)
node_image=$(docker images --format '{{.Repository}}:{{.Tag}}' 'twincigo-lab/node' | head -1)
warm=(); base=()
for i in $(seq "$WARM_RUNS"); do
  npm run -s lab:down >/dev/null 2>&1
  base+=("$(t sh -c "for n in 1 2 3; do docker run -d --rm --name twincigo-bench-\$n --entrypoint sleep $node_image 60 >/dev/null; done; docker rm -f twincigo-bench-1 twincigo-bench-2 twincigo-bench-3")")
  warm+=("$(t npm run -s lab:up)")
done
printf '{\n  "coldLabUpMs": %s,\n  "coldSteps": "%s",\n  "warmLabUpMedianMs": %s,\n  "warmRunsMs": [%s],\n  "baselineThreePlainContainersMedianMs": %s\n}\n' \
  "$cold" "$steps" "$(printf '%s\n' "${warm[@]}" | median)" "$(IFS=,; echo "${warm[*]}")" "$(printf '%s\n' "${base[@]}" | median)"
