import { createConnection } from 'node:net';
import { InterruptedError } from '../../errors.js';
import type { ExecOptions, ExecResult } from '../connection.js';
import { SshError, type SshFailure } from '../errors.js';
import type { SshTarget } from '../target.js';
import { frameLine, lineParser, type PersistFrame } from './protocol.js';

/**
 * Nothing ran on the node: connect directly. `absent` — no holder answered (none running, a stale
 * socket, a hung one): start one; `refused` — the holder has no connection to this node yet (it is
 * opening one for the next command).
 */
export class HolderUnavailable extends Error {
  constructor(
    readonly reason: 'absent' | 'refused',
    message: string,
  ) {
    super(message);
  }
}

export interface HolderExecOptions extends Pick<ExecOptions, 'onStdout' | 'onStderr' | 'signal'> {
  target: SshTarget;
  idleMs: number;
  timeoutMs: number;
  /** How long the holder may take to get the command's channel opened on the node. */
  startTimeoutMs: number;
  stdin?: string;
}

/**
 * Runs a command through a holder's socket. Rejects with HolderUnavailable when nothing ran on the
 * node (so the caller may connect directly and run it there); once the node has started the
 * command, a failure is the command's (SshError), as on a direct connection.
 */
export function holderExec(socket: string, command: string, opts: HolderExecOptions): Promise<ExecResult> {
  const began = performance.now();
  const label = opts.target.label;
  return new Promise<ExecResult>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new InterruptedError());
    let stdout = '';
    let stderr = '';
    let started = false;
    let settled = false;
    const sock = createConnection(socket);
    const finish = (err: Error | null, result?: ExecResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(result!);
    };
    const onAbort = () => finish(new InterruptedError(`${label}: interrupted`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let timer = setTimeout(() => finish(new HolderUnavailable('absent', `no channel within ${opts.startTimeoutMs} ms`)), opts.startTimeoutMs);
    sock.on('error', (err) => finish(started ? new SshError(label, 'closed', `the kept SSH connection failed: ${err.message}`) : new HolderUnavailable('absent', err.message)));
    sock.on('close', () => finish(started ? new SshError(label, 'closed', 'the kept SSH connection ended before the command did') : new HolderUnavailable('absent', 'closed')));
    sock.on('connect', () =>
      sock.write(frameLine({ op: 'exec', target: opts.target, idleMs: opts.idleMs, command, timeoutMs: opts.timeoutMs, ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) })),
    );
    sock.on(
      'data',
      lineParser<PersistFrame>((f) => {
        switch (f.t) {
          case 'start':
            started = true;
            clearTimeout(timer);
            // the holder enforces timeoutMs on the node; this only guards against a holder that hangs
            timer = setTimeout(() => finish(new SshError(label, 'timeout', `command timed out after ${opts.timeoutMs / 1000}s`)), opts.timeoutMs + 2000);
            return;
          case 'out':
            stdout += f.d;
            opts.onStdout?.(f.d);
            return;
          case 'err':
            stderr += f.d;
            opts.onStderr?.(f.d);
            return;
          case 'exit':
            return finish(null, { command, code: f.code, ...(f.signal ? { signal: f.signal } : {}), stdout, stderr, durationMs: performance.now() - began });
          case 'fail':
            return finish(started ? new SshError(label, f.kind as SshFailure, f.message) : new HolderUnavailable('refused', f.message));
          case 'pong':
            return finish(new HolderUnavailable('absent', 'unexpected answer'));
        }
      }),
    );
  });
}
