import { UsageError } from '../errors.js';

/**
 * Patroni's DCS timings. ttl stays ≥ 20 s (the maintainers' advice against false failovers) and
 * loop_wait + 2 × retry_timeout ≤ ttl (Patroni's rule). Measured in the lab notes: a killed
 * leader is replaced in 16.8–18.6 s with these values and HAProxy's fast checks.
 */
export const PATRONI_TIMINGS = { ttl: 20, loop_wait: 5, retry_timeout: 7 } as const;

export interface EtcdTimings {
  heartbeatMs: number;
  electionMs: number;
}

/**
 * etcd timings from the round trip between nodes: heartbeat ≈ RTT (with margin, at least etcd's
 * default 100 ms), election timeout ≥ 10 × heartbeat (at least 1 s). An etcd election must finish
 * well inside Patroni's retry_timeout, or a network blip becomes a Patroni failover.
 */
export function etcdTimings(rttMs: number): EtcdTimings {
  const heartbeatMs = Math.max(100, Math.ceil((rttMs * 1.5) / 10) * 10);
  const electionMs = Math.max(1000, heartbeatMs * 10);
  const budget = (PATRONI_TIMINGS.retry_timeout * 1000) / 2;
  if (electionMs > budget) {
    throw new UsageError(`rttMs ${rttMs} needs an etcd election timeout of ${electionMs} ms, more than half of Patroni's retry_timeout (${budget} ms)`, [
      'nodes this far apart cannot share one etcd cluster safely: check rttMs in the inventory',
    ]);
  }
  return { heartbeatMs, electionMs };
}
