import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { TwincigoError } from '../errors.js';

/**
 * The migration lock: a session-level PostgreSQL advisory lock on the leader, so two operators
 * cannot migrate at once. It goes away with its connection (a crashed run or a failover never
 * leaves it behind); the second operator is told who holds it, from the holder's application_name.
 */
export const LOCK_KEY = [1954011502, 1835624306] as const; // "twin", "migr"

export const TRY_LOCK_SQL = `SELECT pg_try_advisory_lock(${LOCK_KEY[0]}, ${LOCK_KEY[1]}) AS locked`;
export const UNLOCK_SQL = `SELECT pg_advisory_unlock(${LOCK_KEY[0]}, ${LOCK_KEY[1]})`;
export const HOLDER_SQL = `SELECT a.application_name, a.pid, a.backend_start, now() - a.backend_start AS held_for
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = ${LOCK_KEY[0]} AND l.objid::bigint = ${LOCK_KEY[1]} AND l.objsubid = 2`;

export async function lockHolder(client: pg.Client): Promise<string> {
  const res = await client.query<{ application_name: string; pid: number; backend_start: Date }>(HOLDER_SQL);
  const h = res.rows[0];
  if (!h) return 'another session (gone now)';
  const since = h.backend_start instanceof Date ? h.backend_start.toISOString() : String(h.backend_start);
  return `${h.application_name || 'an unnamed session'} (backend pid ${h.pid}, connected since ${since})`;
}

/** Takes the lock, waiting up to waitMs; refuses with the holder's name when it is still held. */
export async function acquireMigrationLock(client: pg.Client, waitMs: number, onWait?: (holder: string) => void, signal?: AbortSignal): Promise<void> {
  const until = Date.now() + waitMs;
  let told = false;
  for (;;) {
    const res = await client.query<{ locked: boolean }>(TRY_LOCK_SQL);
    if (res.rows[0]?.locked) return;
    const holder = await lockHolder(client);
    if (Date.now() >= until) {
      throw new TwincigoError(`migrations are locked: ${holder} is migrating`, 1, [
        'wait for it to finish (--lock-wait <seconds> waits for it); the lock goes away with its connection',
      ]);
    }
    if (!told) onWait?.(holder);
    told = true;
    signal?.throwIfAborted();
    await sleep(Math.min(500, Math.max(50, until - Date.now())));
  }
}
