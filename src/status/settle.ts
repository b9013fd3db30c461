import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterStatus } from './model.js';

export interface SettleOptions {
  /** How long a cluster that is not yet healthy is given to settle. */
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal | undefined;
  /** Called before each further look, with what the last one saw. */
  onWait?: (last: ClusterStatus, elapsedMs: number) => void;
}

/**
 * The cluster's status once it has settled: asked again (bounded) while it is not healthy, so that
 * a moment mid-change (an HAProxy check not yet risen, a replica still connecting) is not reported
 * as the result. Returns the first healthy status, or the last one seen when time runs out.
 */
export async function settledStatus(look: () => Promise<ClusterStatus>, opts: SettleOptions): Promise<{ status: ClusterStatus; waitedMs: number }> {
  const started = performance.now();
  const interval = opts.intervalMs ?? 2000;
  for (;;) {
    const status = await look();
    const elapsed = performance.now() - started;
    if (status.healthy || elapsed + interval > opts.timeoutMs || opts.signal?.aborted) return { status, waitedMs: Math.round(elapsed) };
    opts.onWait?.(status, elapsed);
    try {
      await sleep(interval, undefined, { signal: opts.signal });
    } catch {
      return { status, waitedMs: Math.round(performance.now() - started) };
    }
  }
}
