/** Running host commands for the lab: captured output, a clear error naming the command. */
import { execa, type Options } from 'execa';

export type Log = (line: string) => void;

export interface Result {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function sh(cmd: string, args: string[], opts: Options & { reject?: boolean } = {}): Promise<Result> {
  const res = await execa(cmd, args, { reject: false, stripFinalNewline: false, ...opts, encoding: 'utf8' } as Options);
  const out: Result = { exitCode: res.exitCode ?? 1, stdout: String(res.stdout ?? ''), stderr: String(res.stderr ?? '') };
  if (out.exitCode !== 0 && opts.reject !== false) {
    const tail = (out.stderr.trim() || out.stdout.trim()).split('\n').slice(-15).join('\n  ');
    throw new Error(`\`${cmd} ${args.join(' ')}\` exited with ${out.exitCode}:\n  ${tail}`);
  }
  return out;
}

export const docker = (args: string[], opts: Options & { reject?: boolean } = {}) => sh('docker', args, opts);

/** Runs a command inside a lab node container. */
export const inNode = (container: string, args: string[], opts: Options & { reject?: boolean } = {}) =>
  docker(['exec', ...(opts.input !== undefined ? ['-i'] : []), container, ...args], opts);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until check() returns a truthy value, or throws what the last attempt said. */
export async function waitFor<T>(what: string, check: () => Promise<T | false | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${last}` : ''}`);
    await sleep(everyMs);
  }
}
