import { execIn } from '../remote/compose.js';
import type { Command } from '../remote/shell.js';

/**
 * The write probe: a loop inside a node's patroni container that inserts one row through that
 * node's HAProxy :5000 every interval — a new connection each time, as an application reconnecting
 * would — and prints `ok|err <seq> <epoch ms>` per attempt. It stops when its stop file appears or
 * after maxSec (so a lost operator connection never leaves it running). Rows carry the run id, so
 * acknowledged writes can be looked for on the new leader afterwards (lost writes = the real RPO).
 */
const SCRIPT = [
  'run="$1"; interval="$2"; max="$3"; stop="/tmp/twincigo-probe-$run.stop"',
  'export PGPASSWORD="$PATRONI_SUPERUSER_PASSWORD" PGCONNECT_TIMEOUT=1',
  'q() { psql -X -qAt -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5000 -U postgres -d postgres -c "$1" >/dev/null 2>&1; }',
  'q "create schema if not exists twincigo; create table if not exists twincigo.write_probe (run text not null, seq int not null, at timestamptz not null default clock_timestamp(), primary key (run, seq))" || echo "setup-failed"',
  'end=$(( $(date +%s) + max )); i=0',
  'while [ ! -e "$stop" ] && [ "$(date +%s)" -lt "$end" ]; do',
  '  i=$((i + 1))',
  '  if q "insert into twincigo.write_probe (run, seq) values (\'$run\', $i)"; then echo "ok $i $(date +%s%3N)"; else echo "err $i $(date +%s%3N)"; fi',
  '  sleep "$interval"',
  'done',
  'rm -f "$stop"',
].join('\n');

export const probeRunId = () => `p${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export function writeProbeCommand(run: string, intervalSec = 0.1, maxSec = 300): Command {
  if (!/^[a-z0-9]+$/.test(run)) throw new Error(`bad probe run id ${run}`);
  return execIn('patroni', ['sh', '-c', SCRIPT, 'sh', run, String(intervalSec), String(maxSec)]);
}

export const stopProbeCommand = (run: string): Command => execIn('patroni', ['touch', `/tmp/twincigo-probe-${run}.stop`]);

/** The acknowledged sequence numbers of a run that the current leader has (through :5000). */
export const probeRowsQuery = (run: string) => `select coalesce(string_agg(seq::text, ',' order by seq), '') from twincigo.write_probe where run = '${run}'`;

export interface ProbeEvent {
  ok: boolean;
  seq: number;
  atMs: number;
}

export function parseProbeLine(line: string): ProbeEvent | null {
  const m = /^(ok|err) (\d+) (\d+)$/.exec(line.trim());
  return m ? { ok: m[1] === 'ok', seq: Number(m[2]), atMs: Number(m[3]) } : null;
}

export interface ProbeSummary {
  attempts: number;
  acknowledged: number;
  failed: number;
  /** The longest time between two acknowledged writes, in seconds (the write outage). */
  outageSeconds: number;
  /** When the longest gap started and ended (epoch ms), null without two acknowledged writes. */
  gap: { fromMs: number; toMs: number } | null;
}

export function summarizeProbe(events: readonly ProbeEvent[]): ProbeSummary {
  const acks = events.filter((e) => e.ok).sort((a, b) => a.atMs - b.atMs);
  let gap: ProbeSummary['gap'] = null;
  for (let i = 1; i < acks.length; i++) {
    const d = acks[i]!.atMs - acks[i - 1]!.atMs;
    if (!gap || d > gap.toMs - gap.fromMs) gap = { fromMs: acks[i - 1]!.atMs, toMs: acks[i]!.atMs };
  }
  return {
    attempts: events.length,
    acknowledged: acks.length,
    failed: events.length - acks.length,
    outageSeconds: gap ? Math.round((gap.toMs - gap.fromMs) / 100) / 10 : 0,
    gap,
  };
}
