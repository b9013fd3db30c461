/** What the engine needs to know of a node. */
export interface NodeLike {
  name: string;
}

export interface StepContext<N extends NodeLike = NodeLike> {
  /** The node this run is for (per-node steps), undefined for cluster-wide steps. */
  node: N;
  /** Aborted on Ctrl-C and when the step times out: pass it to every wait. */
  signal: AbortSignal;
  /** A progress line, shown under the step (TTY) or as a timestamped line (plain). */
  log(line: string): void;
  /** Registers an action that always runs when the run ends (success, failure or Ctrl-C), last first. */
  onCleanup(title: string, fn: (signal: AbortSignal) => Promise<void>): void;
  /** 1 for the first attempt. */
  attempt: number;
}

export interface Step<N extends NodeLike = NodeLike> {
  title: string;
  /** Which of the phase's nodes run this step (default: all of them). */
  when?: (node: N) => boolean;
  /** Return a reason to skip (e.g. "already running"), or false to run. */
  skip?: (ctx: StepContext<N>) => Promise<string | false> | string | false;
  /** May return a short note shown next to the title (e.g. "3 files uploaded"). */
  run: (ctx: StepContext<N>) => Promise<string | void>;
  timeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
}

/** A cluster-wide step that runs once, after the phase's per-node steps all succeeded. */
export type OnceStep = Omit<Step<NodeLike>, 'when' | 'run' | 'skip'> & {
  skip?: (ctx: Omit<StepContext, 'node'>) => Promise<string | false> | string | false;
  run: (ctx: Omit<StepContext, 'node'>) => Promise<string | void>;
};

export interface Phase<N extends NodeLike = NodeLike> {
  title: string;
  /** Nodes this phase runs on (default: all nodes of the run). */
  nodes?: N[];
  /** Per-node steps: each node runs them in order; nodes run in parallel unless serial. */
  steps?: Step<N>[];
  serial?: boolean;
  /** Cluster-wide steps (health gates, summaries) after the per-node steps. */
  then?: OnceStep[];
}

export interface Plan<N extends NodeLike = NodeLike> {
  title: string;
  phases: Phase<N>[];
}

export type StepStatus = 'ok' | 'skipped' | 'failed' | 'interrupted';

export interface StepRecord {
  phase: string;
  step: string;
  node: string | null;
  status: StepStatus;
  message?: string;
  /** A failure's hints (a TwincigoError's: what to do about it), carried to the run's error. */
  hints?: string[];
  attempts: number;
  durationMs: number;
}

export interface RunResult {
  title: string;
  ok: boolean;
  interrupted: boolean;
  /** "failed on 1 of 3 nodes — ash-2: …" */
  error?: string;
  failedPhase?: string;
  phasesNotStarted: string[];
  steps: StepRecord[];
  cleanup: StepRecord[];
  durationMs: number;
}

export type RenderMode = 'tty' | 'plain' | 'silent';
