import type { ListrTaskWrapper } from 'listr2';
import { InterruptedError, TwincigoError, errorMessage } from '../errors.js';
import { listrOptions, type ListrModule } from './render.js';
import { runAttempts, type Attempt } from './attempt.js';
import type { NodeLike, OnceStep, Phase, Plan, RenderMode, RunResult, Step, StepRecord } from './types.js';

export interface RunOptions<N extends NodeLike> {
  nodes: N[];
  mode: RenderMode;
  /** Aborting it (Ctrl-C) stops running steps; later phases do not start; cleanups still run. */
  signal?: AbortSignal;
  cleanupTimeoutMs?: number;
}

interface Cleanup {
  title: string;
  node: string | null;
  fn: (signal: AbortSignal) => Promise<void>;
}

/**
 * Runs a plan: phases in order; inside a phase each node runs its steps in order, nodes in
 * parallel (or one by one for serial phases); then the phase's cluster-wide steps. A phase with a
 * failure on any node stops the run: later phases are not started. Cleanups always run.
 */
export async function runPlan<N extends NodeLike>(plan: Plan<N>, opts: RunOptions<N>): Promise<RunResult> {
  const started = performance.now();
  const listr: ListrModule = await import('listr2');
  const signal = opts.signal ?? new AbortController().signal;
  const steps: StepRecord[] = [];
  const cleanups: Cleanup[] = [];
  const result: RunResult = { title: plan.title, ok: true, interrupted: false, phasesNotStarted: [], steps, cleanup: [], durationMs: 0 };

  for (const [i, phase] of plan.phases.entries()) {
    if (!result.ok || signal.aborted) {
      result.phasesNotStarted = plan.phases.slice(i).map((p) => p.title);
      break;
    }
    const attempt: Attempt = { phase: phase.title, signal, records: steps, cleanups };
    const failure = await runPhase(listr, phase, opts, attempt);
    if (failure) {
      result.ok = false;
      result.failedPhase = phase.title;
      result.error = failure;
    }
  }
  if (signal.aborted) {
    result.ok = false;
    result.interrupted = true;
    result.error ??= 'interrupted';
  }
  result.cleanup = await runCleanups(listr, cleanups, opts);
  result.durationMs = performance.now() - started;
  return result;
}

async function runPhase<N extends NodeLike>(listr: ListrModule, phase: Phase<N>, opts: RunOptions<N>, at: Attempt): Promise<string | undefined> {
  const nodes = phase.nodes ?? opts.nodes;
  const perNode = nodes
    .map((node) => ({ node, steps: (phase.steps ?? []).filter((s) => !s.when || s.when(node)) }))
    .filter((n) => n.steps.length > 0);
  if (perNode.length > 0) {
    const plain = opts.mode !== 'tty';
    const tasks = perNode.map(({ node, steps }) => ({
      title: node.name,
      task: (_: unknown, task: TaskLike) =>
        task.newListr(
          // plain lines interleave across nodes: each names its node
          steps.map((step) => stepTask(step, node, at, plain ? `${node.name}: ` : '')),
          { concurrent: false, exitOnError: true },
        ),
    }));
    const failedHere = () => at.records.filter((r) => r.phase === phase.title && (r.status === 'failed' || r.status === 'interrupted'));
    const list = new listr.Listr(
      [
        {
          title: phase.title,
          task: (_: unknown, task: TaskLike) => {
            // listr2 marks a parent done when its concurrent subtasks fail: say it in the title
            at.onFailure = () => {
              const n = new Set(failedHere().map((r) => r.node)).size;
              task.title = `${phase.title} — failed on ${n} of ${perNode.length} node${perNode.length === 1 ? '' : 's'}`;
            };
            return task.newListr(tasks, { concurrent: !phase.serial, exitOnError: Boolean(phase.serial) });
          },
        },
      ],
      listrOptions(listr, opts.mode) as never,
    );
    await list.run().catch(() => undefined);
    at.onFailure = undefined;
    const failed = failedHere();
    if (failed.length > 0) return describeFailure(phase.title, failed, perNode.length);
  }
  for (const once of phase.then ?? []) {
    const list = new listr.Listr([stepTask(once, undefined, at)], listrOptions(listr, opts.mode) as never);
    await list.run().catch(() => undefined);
    const rec = at.records.at(-1);
    if (rec && rec.status !== 'ok' && rec.status !== 'skipped') return `${phase.title}: ${rec.step} failed — ${rec.message ?? 'error'}`;
  }
  return undefined;
}

export function describeFailure(phase: string, failed: StepRecord[], nodeCount: number): string {
  const perNode = failed.filter((f) => f.node !== null);
  // a message that already names its node (SSH errors do) is not prefixed twice
  const details = failed.map((f) => {
    const who = f.node ?? 'cluster';
    const msg = f.message ?? f.status;
    return msg.startsWith(`${who}: `) ? msg : `${who}: ${msg}`;
  }).join('; ');
  if (perNode.length === 0) return `${phase} failed — ${details}`;
  return `${phase} failed on ${perNode.length} of ${nodeCount} node${nodeCount === 1 ? '' : 's'} — ${details}`;
}

type TaskLike = ListrTaskWrapper<any, any, any>;

function stepTask<N extends NodeLike>(step: Step<N> | OnceStep, node: N | undefined, at: Attempt, prefix = '') {
  return {
    title: prefix + step.title,
    task: async (_: unknown, task: TaskLike) => {
      const rec = await runAttempts(step as Step<N>, node, at, {
        log: (line) => {
          task.output = prefix + line;
        },
        retrying: (n, of) => {
          task.title = `${prefix}${step.title} (retry ${n}/${of})`;
        },
      });
      if (rec.status === 'skipped') return task.skip(`${prefix}${step.title}: ${rec.message ?? 'skipped'}`);
      if (rec.status !== 'ok') {
        at.onFailure?.();
        throw new Error(rec.message ?? rec.status);
      }
      task.title = `${prefix}${step.title}${rec.message ? `: ${rec.message}` : ''}`;
    },
  };
}

async function runCleanups<N extends NodeLike>(listr: ListrModule, cleanups: Cleanup[], opts: RunOptions<N>): Promise<StepRecord[]> {
  if (cleanups.length === 0) return [];
  const records: StepRecord[] = [];
  const ordered = [...cleanups].reverse();
  const at: Attempt = { phase: 'cleanup', signal: new AbortController().signal, records, cleanups: [] };
  const steps = ordered.map((c) => ({
    title: c.node ? `${c.node}: ${c.title}` : c.title,
    timeoutMs: opts.cleanupTimeoutMs ?? 120_000,
    run: async ({ signal }: { signal: AbortSignal }) => c.fn(signal),
  }));
  const list = new listr.Listr(
    [{ title: 'cleanup', task: (_: unknown, task: TaskLike) => task.newListr(steps.map((s) => stepTask(s, undefined, at)), { exitOnError: false }) }],
    listrOptions(listr, opts.mode) as never,
  );
  await list.run().catch(() => undefined);
  return records;
}

/** Throws the error a failed or interrupted run should end the command with. */
export function assertSucceeded(result: RunResult): void {
  if (result.interrupted) throw new InterruptedError(`${result.title} interrupted`);
  if (!result.ok) throw new TwincigoError(result.error ?? `${result.title} failed`, undefined, [...new Set(result.steps.filter((s) => s.status === 'failed').flatMap((s) => s.hints ?? []))]);
}

export { errorMessage };
