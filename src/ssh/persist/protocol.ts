import type { SshTarget } from '../target.js';

/**
 * The kept-connection protocol: a client connects to the holder's Unix socket, sends one request
 * line, and reads frames (one JSON object per line) until `exit`, `fail` or `pong`; then the
 * socket closes.
 */
export type PersistRequest =
  | {
      op: 'exec';
      /** The node as the client resolved it; the holder connects to it if it has no connection yet. */
      target: SshTarget;
      /** How long that connection is kept unused (ssh.persist). */
      idleMs: number;
      command: string;
      timeoutMs: number;
      stdin?: string;
    }
  /** Is a holder alive and answering on this socket? */
  | { op: 'ping' };

export type PersistFrame =
  | { t: 'pong'; pid: number }
  /** The node opened the command's channel: the kept connection is alive. */
  | { t: 'start' }
  | { t: 'out'; d: string }
  | { t: 'err'; d: string }
  | { t: 'exit'; code: number | null; signal?: string }
  /** The command could not run or did not finish (no connection yet, timeout, connection lost). */
  | { t: 'fail'; kind: string; message: string };

export const frameLine = (f: PersistFrame | PersistRequest): string => `${JSON.stringify(f)}\n`;

/** Splits a byte stream into lines (a chunk may end mid-line) and hands each parsed object on. */
export function lineParser<T>(onObject: (o: T) => void): (chunk: Buffer | string) => void {
  let rest = '';
  return (chunk) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (l.trim() !== '') onObject(JSON.parse(l) as T);
  };
}
