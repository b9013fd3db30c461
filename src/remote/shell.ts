/**
 * Remote commands are data: argument arrays composed with && / || / | and rendered to one shell
 * line here — the only place in twincigo that quotes anything for a remote shell.
 */
export type Command =
  | { kind: 'run'; argv: readonly string[]; root: boolean }
  | { kind: 'seq'; op: '&&' | '||' | '|' | ';'; parts: readonly Command[] }
  | { kind: 'redirect'; cmd: Command; stdout?: string; stderr?: string | '&1'; stdin?: string };

const SAFE = /^[A-Za-z0-9_\-.,:/@%+=]+$/;

/** POSIX single-quote quoting. */
export function quote(arg: string): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export const run = (...argv: string[]): Command => ({ kind: 'run', argv, root: false });
/** Needs root: prefixed with `sudo -n` when the SSH user is not root. */
export const root = (...argv: string[]): Command => ({ kind: 'run', argv, root: true });
export const and = (...parts: Command[]): Command => ({ kind: 'seq', op: '&&', parts });
export const or = (...parts: Command[]): Command => ({ kind: 'seq', op: '||', parts });
export const pipe = (...parts: Command[]): Command => ({ kind: 'seq', op: '|', parts });
/** `a ; b`: runs each regardless (not named `then`: a module exporting `then` is a thenable). */
export const seq = (...parts: Command[]): Command => ({ kind: 'seq', op: ';', parts });
export const redirect = (cmd: Command, to: { stdout?: string; stderr?: string | '&1'; stdin?: string }): Command => ({
  kind: 'redirect',
  cmd,
  ...to,
});

/** A command run with extra environment variables (`env K=V … cmd`): for compose, the shell's value wins over the env file's. */
export function withEnv(cmd: Command, vars: Record<string, string>): Command {
  if (cmd.kind !== 'run') throw new Error('withEnv: a single command only');
  const pairs = Object.entries(vars).map(([k, v]) => `${k}=${v}`);
  return pairs.length ? { ...cmd, argv: ['env', ...pairs, ...cmd.argv] } : cmd;
}

export interface RenderOptions {
  /** Prefix root commands with `sudo -n` (the SSH user is not root). */
  sudo: boolean;
}

export function render(cmd: Command, opts: RenderOptions = { sudo: false }): string {
  switch (cmd.kind) {
    case 'run': {
      if (cmd.argv.length === 0) throw new Error('empty command');
      const argv = cmd.root && opts.sudo ? ['sudo', '-n', '--', ...cmd.argv] : cmd.argv;
      return argv.map(quote).join(' ');
    }
    case 'seq':
      return cmd.parts.map((p) => (p.kind === 'seq' && p.op !== cmd.op ? `{ ${render(p, opts)}; }` : render(p, opts))).join(` ${cmd.op} `);
    case 'redirect': {
      const inner = cmd.cmd.kind === 'seq' ? `{ ${render(cmd.cmd, opts)}; }` : render(cmd.cmd, opts);
      let out = inner;
      if (cmd.stdin !== undefined) out += ` < ${quote(cmd.stdin)}`;
      if (cmd.stdout !== undefined) out += ` > ${quote(cmd.stdout)}`;
      if (cmd.stderr !== undefined) out += cmd.stderr === '&1' ? ' 2>&1' : ` 2> ${quote(cmd.stderr)}`;
      return out;
    }
  }
}
