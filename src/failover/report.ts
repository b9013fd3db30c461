import type { DrillResult } from './drill.js';
import type { Scenario } from './scenarios.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 ? s[m]! : Math.round(((s[m - 1]! + s[m]!) / 2) * 10) / 10;
};

export interface FailoverReport extends Omit<DrillResult, 'failures'> {
  runs: DrillResult[];
  maxOutageSeconds: number;
}

/** N runs → one report: medians of the outages, every write lost counted, passed only if every run passed. */
export function aggregate(scenario: Scenario, runs: DrillResult[], maxOutageSeconds: number): FailoverReport {
  const last = runs.at(-1)!;
  return {
    scenario,
    probes: runs.length === 1 ? runs[0]!.probes : sumSides(runs),
    synchronousStandby: runs[0]!.synchronousStandby,
    oldLeader: runs[0]!.oldLeader,
    newLeader: last.newLeader,
    writeOutageSeconds: median(runs.map((r) => r.writeOutageSeconds)),
    readOutageSeconds: median(runs.map((r) => r.readOutageSeconds)),
    acknowledgedWrites: runs.reduce((s, r) => s + r.acknowledgedWrites, 0),
    failedWrites: runs.reduce((s, r) => s + r.failedWrites, 0),
    lostWrites: runs.reduce((s, r) => s + r.lostWrites, 0),
    timelineBefore: runs[0]!.timelineBefore,
    timelineAfter: last.timelineAfter,
    oldLeaderRejoined: runs.every((r) => r.oldLeaderRejoined),
    splitBrainSeconds: Math.max(...runs.map((r) => r.splitBrainSeconds)),
    api: last.api ? { ...last.api, outageSeconds: median(runs.map((r) => r.api?.outageSeconds ?? 0)), requests: runs.reduce((s, r) => s + (r.api?.requests ?? 0), 0), failed: runs.reduce((s, r) => s + (r.api?.failed ?? 0), 0) } : null,
    timeline: {
      leaderLost: median(runs.map((r) => r.timeline.leaderLost ?? 0)),
      newLeader: median(runs.map((r) => r.timeline.newLeader ?? 0)),
      firstWriteOnNewLeader: median(runs.map((r) => r.timeline.firstWriteOnNewLeader ?? 0)),
    },
    passed: runs.every((r) => r.passed),
    maxOutageSeconds,
    runs,
  };
}

/** Several runs: each side's writes added up, its outage the median (runs may fault different nodes). */
function sumSides(runs: DrillResult[]): DrillResult['probes'] {
  return (['outside', 'colocated'] as const).map((side) => {
    const all = runs.map((r) => r.probes.find((p) => p.side === side)!);
    return {
      node: [...new Set(all.map((p) => p.node))].join(','), side,
      acknowledgedWrites: all.reduce((s, p) => s + p.acknowledgedWrites, 0),
      failedWrites: all.reduce((s, p) => s + p.failedWrites, 0),
      lostWrites: all.reduce((s, p) => s + p.lostWrites, 0),
      writeOutageSeconds: median(all.map((p) => p.writeOutageSeconds)),
    };
  });
}

export function reportTable(r: FailoverReport): string {
  const n = r.runs.length;
  const head = `failover-test ${r.scenario}: ${r.passed ? 'PASSED' : 'FAILED'}${n > 1 ? ` (median of ${n} runs)` : ''}`;
  const rows: Array<[string, string]> = [
    ['leader', `${r.oldLeader} → ${r.newLeader ?? '—'} (timeline ${r.timelineBefore} → ${r.timelineAfter ?? '?'})`],
    ['write outage', `${r.writeOutageSeconds}s (limit ${r.maxOutageSeconds}s)`],
    ['read outage', `${r.readOutageSeconds}s`],
    ...(r.api ? [['API outage', `${r.api.outageSeconds}s (limit ${r.api.limitSeconds}s) through ${r.api.edge}'s edge — ${Object.entries(r.api.paths).map(([p, s]) => `${p} ${s}s`).join(', ')}; ${r.api.requests} requests, ${r.api.failed} failed`] as [string, string]] : []),
    ['replication', r.synchronousStandby ? `synchronous (standby ${r.synchronousStandby})` : 'asynchronous'],
    ...r.probes.map((p): [string, string] => [`writes ${p.side}`, `${p.acknowledgedWrites} acknowledged, ${p.failedWrites} failed, ${p.lostWrites} lost — from ${p.node}, outage ${p.writeOutageSeconds}s`]),
    ['after the fault', `leader lost ${r.timeline.leaderLost ?? '—'}s · new leader ${r.timeline.newLeader ?? '—'}s · first write on it ${r.timeline.firstWriteOnNewLeader ?? '—'}s`],
    ['split brain', r.splitBrainSeconds > 0 ? `two primaries for ${r.splitBrainSeconds}s` : 'never two primaries'],
    ['old leader', r.oldLeaderRejoined ? 'rejoined as a replica, streaming' : 'NOT back'],
  ];
  const lines = [head, ...rows.map(([k, v]) => `  ${k.padEnd(16)} ${v}`)];
  if (n > 1) lines.push('  runs:', ...r.runs.map((x, i) => `    ${i + 1}. outage ${x.writeOutageSeconds}s / read ${x.readOutageSeconds}s, ${x.lostWrites} lost${x.passed ? '' : ` — ${x.failures.join('; ')}`}`));
  for (const f of r.runs.flatMap((x) => x.failures)) lines.push(`  ✖ ${f}`);
  return lines.join('\n');
}
