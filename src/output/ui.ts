import { InterruptedError, UsageError } from '../errors.js';

/** Ctrl-C at a prompt (inquirer's ExitPromptError) is an interrupt: exit 130, like everywhere else. */
async function prompt<T>(ask: () => Promise<T>): Promise<T> {
  try {
    return await ask();
  } catch (err) {
    if ((err as Error)?.name === 'ExitPromptError' || (err as Error)?.name === 'AbortPromptError') throw new InterruptedError('interrupted at the prompt: nothing was done');
    throw err;
  }
}

/** "deploy changes prod." + ": confirmation needed" reads badly: one sentence. */
const sentence = (q: string) => q.replace(/[.:]+$/, '');

export interface UiOptions {
  json: boolean;
  yes: boolean;
  verbose: boolean;
  quiet: boolean;
  color: boolean;
}

/** How a command talks to the operator: human output on stdout, logs on stderr. */
export class Ui {
  readonly isTTY: boolean;

  constructor(
    readonly opts: UiOptions,
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly err: NodeJS.WriteStream = process.stderr,
  ) {
    this.isTTY = Boolean(out.isTTY && err.isTTY);
  }

  /** Prompts are allowed: a terminal on stdin and stderr, and no --yes. */
  get interactive(): boolean {
    return !this.opts.yes && Boolean(process.stdin.isTTY) && Boolean(this.err.isTTY);
  }

  info(msg: string): void {
    if (!this.opts.quiet) this.err.write(`${msg}\n`);
  }
  warn(msg: string): void {
    this.err.write(`warning: ${msg}\n`);
  }
  /** A problem found (preflight, checks): always shown, even with --quiet. */
  problem(msg: string): void {
    this.err.write(`  ✖ ${msg}\n`);
  }
  debug(msg: string): void {
    if (this.opts.verbose) this.err.write(`debug: ${msg}\n`);
  }
  /** A human result (tables, reports); suppressed with --json, where json() prints instead. */
  print(text: string): void {
    if (!this.opts.json) this.out.write(text.endsWith('\n') ? text : `${text}\n`);
  }
  json(value: unknown): void {
    if (this.opts.json) this.out.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** The choice is missing: ask on a TTY, else fail naming the flag that supplies it. */
  async select<T extends string>(question: string, choices: readonly T[], flag: string): Promise<T> {
    if (!this.interactive) throw new UsageError(`${sentence(question)}: pass ${flag}`);
    const { select } = await import('@inquirer/prompts');
    return prompt(() => select({ message: question, choices: choices.map((c) => ({ value: c, name: c })) }, { output: this.err }));
  }

  async confirm(question: string, flag = '--yes'): Promise<boolean> {
    if (this.opts.yes) return true;
    if (!this.interactive) throw new UsageError(`${sentence(question)}: confirmation needed, pass ${flag}`);
    const { confirm } = await import('@inquirer/prompts');
    return prompt(() => confirm({ message: question, default: false }, { output: this.err }));
  }

  /** A guard for dangerous targets (prod): the operator types the name; --yes skips it. */
  async typeToConfirm(question: string, expected: string, flag = '--yes'): Promise<void> {
    if (this.opts.yes) return;
    if (!this.interactive) throw new UsageError(`${sentence(question)}: confirmation needed, pass ${flag}`);
    const { input } = await import('@inquirer/prompts');
    const answer = await prompt(() => input({ message: `${question} Type "${expected}" to continue:` }, { output: this.err }));
    if (answer.trim() !== expected) throw new UsageError(`"${answer.trim()}" is not "${expected}": nothing was done`);
  }

  /** A free-text answer; on a TTY asked (with a default and a validation), else the flag is named. */
  async ask(question: string, flag: string, opts: { default?: string; validate?: (v: string) => string | null } = {}): Promise<string> {
    if (!this.interactive) throw new UsageError(`${sentence(question)}: pass ${flag}`);
    const { input } = await import('@inquirer/prompts');
    const check = opts.validate;
    return prompt(() =>
      input({ message: question, ...(opts.default !== undefined ? { default: opts.default } : {}), ...(check ? { validate: (v: string) => check(v.trim()) ?? true } : {}) }, { output: this.err }),
    ).then((v) => v.trim());
  }

  async secret(question: string, envVar: string): Promise<string> {
    if (!this.interactive) throw new UsageError(`${question}: set ${envVar}`);
    const { password } = await import('@inquirer/prompts');
    return prompt(() => password({ message: question, mask: true }, { output: this.err }));
  }
}
