import { setTimeout as sleep } from 'node:timers/promises';
import { TwincigoError, errorMessage } from '../errors.js';

/** What a health check answers: ready (with a value), or not yet (and why, shown while waiting). */
export type Check<T> = { ready: true; value: T } | { ready: false; why: string };
export const ready = <T>(value: T): Check<T> => ({ ready: true, value });
export const notYet = (why: string): Check<never> => ({ ready: false, why });

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called when the reason for waiting changes (a progress line). */
  log?: (line: string) => void;
}

/**
 * Polls a real health check until it is ready. A check that throws (node unreachable, command
 * failed) counts as "not yet" with the error as reason. On timeout the error says what was awaited
 * and the last answer, so the operator sees why.
 */
export async function waitUntil<T>(what: string, check: () => Promise<Check<T>>, opts: WaitOptions): Promise<T> {
  const until = Date.now() + opts.timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    opts.signal?.throwIfAborted();
    let answer: Check<T>;
    try {
      answer = await check();
    } catch (err) {
      answer = notYet(errorMessage(err));
    }
    if (answer.ready) return answer.value;
    if (answer.why !== last) opts.log?.(`waiting: ${answer.why}`);
    last = answer.why;
    if (Date.now() >= until) throw new TwincigoError(`${what}: not ready after ${Math.round(opts.timeoutMs / 1000)}s — ${last}`);
    await sleep(Math.min(opts.intervalMs ?? 1000, Math.max(0, until - Date.now())), undefined, opts.signal ? { signal: opts.signal } : {}).catch((err: unknown) => {
      opts.signal?.throwIfAborted();
      throw err;
    });
  }
}

/**
 * A check that must give the same ready answer for `forMs` in a row before it counts — for
 * answers that can be right by chance for a moment: a freshly (re)started HAProxy considers every
 * server up until its first health checks fail, so :5000 may reach the leader on one try and a
 * replica on the next (and cut the session when it marks that replica down).
 */
export function steadily<T>(check: () => Promise<Check<T>>, forMs: number, now: () => number = Date.now): () => Promise<Check<T>> {
  let since: number | undefined;
  let value: T | undefined;
  return async () => {
    const answer = await check();
    if (!answer.ready || (since !== undefined && answer.value !== value)) {
      since = answer.ready ? now() : undefined;
      value = answer.ready ? answer.value : undefined;
      return answer.ready ? notYet(`${String(answer.value)}, steady for 0 s`) : answer;
    }
    if (since === undefined) {
      since = now();
      value = answer.value;
    }
    const held = now() - since;
    return held >= forMs ? answer : notYet(`${String(answer.value)}, steady for ${Math.floor(held / 1000)} s`);
  };
}
