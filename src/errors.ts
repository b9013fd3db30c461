/** Exit codes, documented in docs/exit-codes.md. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  degraded: 3,
  down: 4,
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error meant for the operator: a message that says what to fix, and an exit code. */
export class TwincigoError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
    readonly hints: string[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags or a missing choice: exit 2, nothing touched. */
export class UsageError extends TwincigoError {
  constructor(message: string, hints: string[] = []) {
    super(message, EXIT.usage, hints);
  }
}

/** Invalid inventory or env file: every problem at once, each with its path. */
export class ConfigError extends TwincigoError {
  constructor(
    readonly file: string,
    readonly problems: string[],
    hints: string[] = [],
  ) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
      EXIT.usage,
      hints,
    );
  }
}

/** Ctrl-C: the run was stopped by the operator. */
export class InterruptedError extends TwincigoError {
  constructor(message = 'interrupted') {
    super(message, EXIT.interrupted);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
