import { containerName } from '../remote/compose.js';
import { root } from '../remote/shell.js';
import type { SshConnection } from '../ssh/connection.js';
import { clockOffsetMs } from './clock.js';
import { psqlQueryCommand } from './psql.js';
import type { Command } from '../remote/shell.js';

/**
 * The write and read probes, run in a client container of their own on a node (the node's Patroni
 * image, which has psql, on the host network) against that node's HAProxy — as an application on
 * that node connects — so a probe outlives the node's Patroni being killed:
 * writes through :5000 (the leader), reads through :5001 (replicas), one statement every interval
 * on a kept connection — as an application's pool would — reconnecting after a failure. Each
 * answer is a line `w|r ok|err <seq> <server address> <epoch ms>` stamped when it arrives. Written
 * rows carry the run id and sequence number, so acknowledged writes can be looked for on the new
 * leader afterwards (lost writes: the real RPO). Stops when its stop file appears or after maxSec,
 * so a lost operator connection never leaves it running.
 */
const SCRIPT = [
  'run="$1"; interval="$2"; max="$3"; stop="/tmp/twincigo-probe-$run.stop"; seqf="/tmp/twincigo-probe-$run.seq"',
  'export PGPASSWORD="$PATRONI_SUPERUSER_PASSWORD" PGCONNECT_TIMEOUT=1',
  'end=$(( $(date +%s) + max ))',
  'alive() { [ ! -e "$stop" ] && [ "$(date +%s)" -lt "$end" ]; }',
  'sql() { psql -X -qAt -F " " -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d postgres 2>/dev/null; }',
  'echo "create schema if not exists twincigo; create table if not exists twincigo.write_probe (run text not null, seq int not null, at timestamptz not null default clock_timestamp(), primary key (run, seq));" | sql 5000 >/dev/null || echo "setup-failed"',
  'echo 0 > "$seqf"',
  // one kept connection per attempt; psql ends at the first error (ON_ERROR_STOP) and the loop reconnects
  'writes() {',
  '  while alive; do',
  '    while alive; do i=$(( $(cat "$seqf") + 1 )); echo "$i" > "$seqf"',
  '      echo "insert into twincigo.write_probe (run, seq) values (\'$run\', $i) returning \'ok\', seq, host(inet_server_addr());"; sleep "$interval"; done |',
  '      sql 5000 | while read -r a b c; do echo "w $a $b $c $(date +%s%3N)"; done',
  '    alive && echo "w err $(cat "$seqf") - $(date +%s%3N)" && sleep "$interval"',
  '  done',
  '}',
  'reads() {',
  '  while alive; do',
  '    while alive; do echo "select \'ok\', 0, host(inet_server_addr());"; sleep "$interval"; done |',
  '      sql 5001 | while read -r a b c; do echo "r $a $b $c $(date +%s%3N)"; done',
  '    alive && echo "r err 0 - $(date +%s%3N)" && sleep "$interval"',
  '  done',
  '}',
  'writes & reads & wait',
  'rm -f "$stop" "$seqf"',
].join('\n');

export const probeRunId = () => `p${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export const probeContainer = (run: string) => `twincigo-probe-${run}`;

/**
 * Starts the probe's container: the image and the superuser password are read from the node's
 * running Patroni container, the password handed over by name (`-e NAME`), never in an argument.
 */
const LAUNCH = [
  'name="$1"; shift',
  `img=$(docker inspect -f '{{.Config.Image}}' ${containerName('patroni')}) || exit 1`,
  `PATRONI_SUPERUSER_PASSWORD=$(docker exec ${containerName('patroni')} printenv PATRONI_SUPERUSER_PASSWORD) || exit 1`,
  'export PATRONI_SUPERUSER_PASSWORD',
  'exec docker run --rm --name "$name" --network host -e PATRONI_SUPERUSER_PASSWORD --entrypoint sh "$img" -c "$@"',
].join('\n');

export function writeProbeCommand(run: string, intervalSec = 0.1, maxSec = 600): Command {
  if (!/^[a-z0-9]+$/.test(run)) throw new Error(`bad probe run id ${run}`);
  return root('sh', '-c', LAUNCH, 'sh', probeContainer(run), SCRIPT, 'sh', run, String(intervalSec), String(maxSec));
}

/** The stop file, or — when the container is already gone (its node crashed) — nothing to do. */
export const stopProbeCommand = (run: string): Command => root('sh', '-c', 'docker exec "$1" touch "/tmp/twincigo-probe-$2.stop" 2>/dev/null || true', 'sh', probeContainer(run), run);
/** A probe left running after the operator's connection died: removed (its own max time would end it too). */
export const removeProbeCommand = (run: string): Command => root('sh', '-c', 'docker rm -f "$1" >/dev/null 2>&1 || true', 'sh', probeContainer(run));

/** The sequence numbers of a run that the current leader has (asked through :5000). */
export const probeRowsQuery = (run: string) => `select coalesce(string_agg(seq::text, ',' order by seq), '') from twincigo.write_probe where run = '${run}'`;

export interface ProbeEvent {
  kind: 'w' | 'r';
  ok: boolean;
  seq: number;
  /** The server that answered (HAProxy's choice), null for a failure. */
  addr: string | null;
  atMs: number;
}

export function parseProbeLine(line: string): ProbeEvent | null {
  const m = /^(w|r) (ok|err) (\d+) (\S+) (\d+)$/.exec(line.trim());
  if (!m) return null;
  return { kind: m[1] as 'w' | 'r', ok: m[2] === 'ok', seq: Number(m[3]), addr: m[4] === '-' ? null : m[4]!, atMs: Number(m[5]) };
}

/**
 * Feeds streamed probe output (chunks may split lines) into an event list, each time moved from
 * the node's clock to ours (offsetMs = node − ours).
 */
export function probeCollector(events: ProbeEvent[], offsetMs = 0): (chunk: string) => void {
  let rest = '';
  return (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) {
      const e = parseProbeLine(l);
      if (e) events.push({ ...e, atMs: Math.round(e.atMs - offsetMs) });
    }
  };
}

export interface ProbeSummary {
  attempts: number;
  acknowledged: number;
  failed: number;
  /** The longest time between two acknowledged answers, in seconds (the outage). */
  outageSeconds: number;
  /** When the longest gap started and ended (epoch ms), null without two acknowledged answers. */
  gap: { fromMs: number; toMs: number } | null;
}

export function summarizeProbe(events: readonly ProbeEvent[], kind: 'w' | 'r' = 'w'): ProbeSummary {
  const mine = events.filter((e) => e.kind === kind);
  const acks = mine.filter((e) => e.ok).sort((a, b) => a.atMs - b.atMs);
  let gap: ProbeSummary['gap'] = null;
  for (let i = 1; i < acks.length; i++) {
    const d = acks[i]!.atMs - acks[i - 1]!.atMs;
    if (!gap || d > gap.toMs - gap.fromMs) gap = { fromMs: acks[i - 1]!.atMs, toMs: acks[i]!.atMs };
  }
  return {
    attempts: mine.length,
    acknowledged: acks.length,
    failed: mine.length - acks.length,
    outageSeconds: gap ? Math.round((gap.toMs - gap.fromMs) / 100) / 10 : 0,
    gap,
  };
}

/**
 * One probe run on a node: started in the background, stopped by its stop file, and judged — the
 * acknowledged writes looked for on the current leader. switchover and failover-test share it.
 */
export class ProbeSession {
  readonly run = probeRunId();
  readonly events: ProbeEvent[] = [];
  private done: Promise<unknown> | undefined;

  constructor(private readonly conn: SshConnection) {}

  /**
   * Reads the node's clock against ours first: the answers are stamped on the node, the fault and
   * the leader watch on our side, and a real node's clock is not ours to the millisecond.
   */
  async start(): Promise<void> {
    const { offsetMs } = await clockOffsetMs(this.conn, 3);
    this.done = this.conn.exec(writeProbeCommand(this.run), { timeoutMs: 660_000, onStdout: probeCollector(this.events, offsetMs) }).catch(() => undefined);
  }

  acknowledged(kind: 'w' | 'r'): number {
    return this.events.filter((e) => e.kind === kind && e.ok).length;
  }

  /** Idempotent: a cleanup may call it again after the measurement did. */
  async stop(): Promise<void> {
    await this.conn.exec(stopProbeCommand(this.run)).catch(() => undefined);
    const ended = await Promise.race([this.done?.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000).unref())]);
    if (!ended) await this.conn.exec(removeProbeCommand(this.run)).catch(() => undefined);
    await this.done;
  }

  /**
   * Acknowledged writes the leader does not have: the real RPO. Asked through a node's :5000 —
   * by default this probe's node; `via` another (a probe on a node that was faulted asks outside).
   */
  async lostWrites(via: SshConnection = this.conn): Promise<number> {
    const rows = await via.run(psqlQueryCommand(5000, probeRowsQuery(this.run)));
    const present = new Set(rows.stdout.trim().split(',').filter(Boolean).map(Number));
    return this.events.filter((e) => e.kind === 'w' && e.ok && !present.has(e.seq)).length;
  }
}

/** What a write probe measured: the longest gap between acknowledged writes, and the writes' fate. */
export interface WriteCounts {
  writeOutageSeconds: number;
  acknowledgedWrites: number;
  failedWrites: number;
  lostWrites: number;
}
