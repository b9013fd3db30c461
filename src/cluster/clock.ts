import { run } from '../remote/shell.js';
import type { SshConnection } from '../ssh/connection.js';

/**
 * The node's clock against ours, NTP-style: a few `date` round trips on the open connection, the
 * one with the shortest round trip wins, offset = remote − (sent + rtt/2). The error is at most
 * half that round trip — a one-shot reading after a long command would be off by its duration.
 */
export async function clockOffsetMs(conn: SshConnection, samples = 2): Promise<{ offsetMs: number; rttMs: number }> {
  let best: { offsetMs: number; rttMs: number } | undefined;
  for (let i = 0; i < samples; i++) {
    const sent = Date.now();
    const res = await conn.run(run('date', '+%s%3N'), { timeoutMs: 10_000 });
    const rtt = Date.now() - sent;
    const remote = Number(res.stdout.trim());
    if (!Number.isFinite(remote)) continue;
    if (!best || rtt < best.rttMs) best = { offsetMs: remote - (sent + rtt / 2), rttMs: rtt };
  }
  if (!best) throw new Error('date +%s%3N gave no time');
  return best;
}
