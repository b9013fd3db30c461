import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { GlobalOptions } from '../session/session.js';

export interface OptionDef {
  flags: string;
  description: string;
  default?: string | boolean | string[];
  /** Repeatable: every value is collected into an array. */
  repeat?: boolean;
}

/**
 * A command as data: what `twincigo X --help` shows (name, arguments, options, 2–4 examples, the
 * exit codes beyond 0/2/130) and how it runs. Each file in src/cli/commands owns one; main.ts only
 * registers them. `run` imports what it needs lazily, so that --help stays fast.
 */
export interface CommandDef {
  name: string;
  description: string;
  args?: Array<readonly [name: string, description: string]>;
  options?: OptionDef[];
  examples?: string[];
  exits?: string[];
  subcommands?: CommandDef[];
  /** Each command states the shape of its own arguments and options (commander hands over untyped values). */
  run?: (g: GlobalOptions, args: any, opts: any, cmd: Command) => Promise<number | void> | number | void;
}

export const defineCommand = (def: CommandDef): CommandDef => def;

/** `--lock-wait`, as every operation that takes the environment's lock has it. */
export const lockWaitOption = (what = 'a held lock'): OptionDef => ({ flags: '--lock-wait <seconds>', description: `wait this long for ${what}`, default: '0' });

/** A number of seconds ≥ 0 (or > 0), or exit 2 naming the flag. */
export function seconds(value: string, flag: string, opts: { positive?: boolean } = {}): number {
  const n = Number(value);
  if (opts.positive ? !(n > 0) : !(n >= 0)) throw new UsageError(`${flag} takes a number of seconds${opts.positive ? ' > 0' : ''}`);
  return n;
}

/** A whole number (≥ min), or exit 2 naming the flag. */
export function wholeNumber(value: string, flag: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} takes a whole number${min > 0 ? ` > ${min - 1}` : ''}`);
  return n;
}
