import { setTimeout as sleep } from 'node:timers/promises';
import { TwincigoError, errorMessage } from '../errors.js';
import type { NodeLike, Step, StepContext, StepRecord } from './types.js';

export interface Attempt {
  phase: string;
  signal: AbortSignal;
  records: StepRecord[];
  cleanups: Array<{ title: string; node: string | null; fn: (signal: AbortSignal) => Promise<void> }>;
  /** Called when a step of the current phase fails (the renderer marks the phase). */
  onFailure?: (() => void) | undefined;
}

interface Hooks {
  log(line: string): void;
  retrying(attempt: number, of: number): void;
}

export class StepTimeoutError extends Error {
  constructor(title: string, ms: number) {
    super(`${title}: timed out after ${Math.round(ms / 100) / 10}s`);
  }
}

/** Runs one step on one node (or once): skip check, timeout, retries; records the outcome. */
export async function runAttempts<N extends NodeLike>(step: Step<N>, node: N | undefined, at: Attempt, hooks: Hooks): Promise<StepRecord> {
  const started = performance.now();
  const record = (status: StepRecord['status'], attempts: number, message?: string, err?: unknown): StepRecord => {
    const rec: StepRecord = { phase: at.phase, step: step.title, node: node?.name ?? null, status, attempts, durationMs: performance.now() - started };
    if (message !== undefined) rec.message = message;
    if (err instanceof TwincigoError && err.hints.length) rec.hints = err.hints;
    at.records.push(rec);
    return rec;
  };
  const retries = step.retries ?? 0;
  for (let attempt = 1; ; attempt++) {
    if (at.signal.aborted) return record('interrupted', attempt - 1, 'interrupted');
    const timeout = new AbortController();
    const signal = AbortSignal.any([at.signal, timeout.signal]);
    const ctx: StepContext<N> = {
      node: node as N,
      signal,
      attempt,
      log: hooks.log,
      onCleanup: (title, fn) => at.cleanups.push({ title, node: node?.name ?? null, fn }),
    };
    try {
      if (attempt === 1 && step.skip) {
        const reason = await step.skip(ctx);
        if (reason !== false) return record('skipped', 0, reason);
      }
      const note = await withTimeout(step.run(ctx), step, timeout, at.signal);
      return record('ok', attempt, note || undefined);
    } catch (err) {
      if (at.signal.aborted) return record('interrupted', attempt, 'interrupted');
      if (attempt > retries) return record('failed', attempt, errorMessage(err), err);
      hooks.retrying(attempt, retries);
      hooks.log(`attempt ${attempt} failed: ${errorMessage(err)}`);
      try {
        await sleep(step.retryDelayMs ?? 1000, undefined, { signal: at.signal });
      } catch {
        return record('interrupted', attempt, 'interrupted');
      }
    }
  }
}

/** Races the step against its timeout and Ctrl-C, so a step that ignores its signal cannot hang the run. */
function withTimeout<T>(work: Promise<T>, step: { title: string; timeoutMs?: number }, timeout: AbortController, outer: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const ms = step.timeoutMs;
    const timer = ms === undefined ? undefined : setTimeout(() => {
      const err = new StepTimeoutError(step.title, ms);
      timeout.abort(err);
      reject(err);
    }, ms);
    const onAbort = () => reject(new Error('interrupted'));
    outer.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    });
  });
}
