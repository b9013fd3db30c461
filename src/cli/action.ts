import { CommanderError, type Command } from 'commander';
import { EXIT, TwincigoError } from '../errors.js';
import type { GlobalOptions, Session } from '../session/session.js';

/** The global flags of a parsed command line (TWINCIGO_ENV when --env is not given). */
export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals();
  return {
    env: o.env ?? process.env.TWINCIGO_ENV,
    config: o.config,
    nodes: o.nodes,
    json: Boolean(o.json),
    yes: Boolean(o.yes),
    verbose: Boolean(o.verbose),
    quiet: Boolean(o.quiet),
    color: o.color !== false && !process.env.NO_COLOR,
    acceptNewHostKeys: Boolean(o.acceptNewHostKeys),
  };
}

/** Opens the command's session: the inventory, the environment and its env file, validated once. */
export async function session(g: GlobalOptions): Promise<Session> {
  const { openSession } = await import('./open-session.js');
  return openSession(g);
}

let currentJson = false;

/** Runs a command's action: every byte it writes goes through the redactor; its result is the exit code. */
export async function runAction(cmd: Command, action: (g: GlobalOptions) => Promise<number | void> | number | void): Promise<void> {
  const g = globals(cmd);
  currentJson = g.json;
  if (!g.color) process.env.NO_COLOR = '1';
  const { guardStream } = await import('../output/redact.js');
  guardStream(process.stdout);
  guardStream(process.stderr);
  const code = await action(g);
  process.exitCode = code ?? EXIT.ok;
}

/** An error as the operator sees it: one `error:` line, its hints, and with --json the same on stdout. Returns the exit code. */
export function report(err: unknown, argv: string[]): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    // help shown because something was missing (bare `twincigo`, `config` without …) is a usage error
    if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ ok: false, exitCode: EXIT.usage, error: err.message.replace(/^error: /, ''), hints: [] }, null, 2)}\n`);
    return EXIT.usage;
  }
  const exitCode = err instanceof TwincigoError ? err.exitCode : EXIT.failed;
  const message = err instanceof Error ? err.message : String(err);
  const hints = err instanceof TwincigoError ? err.hints : [];
  process.stderr.write(`error: ${message}\n${hints.map((h) => `  hint: ${h}\n`).join('')}`);
  if (!(err instanceof TwincigoError) && err instanceof Error && process.env.TWINCIGO_DEBUG) process.stderr.write(`${err.stack}\n`);
  if (currentJson || argv.includes('--json')) process.stdout.write(`${JSON.stringify({ ok: false, exitCode, error: message, hints }, null, 2)}\n`);
  return exitCode;
}
