import { EXIT, TwincigoError } from '../errors.js';
import type { SshTarget } from './target.js';

export type SshFailure =
  | 'dns'
  | 'refused'
  | 'unreachable'
  | 'timeout'
  | 'auth'
  /** The operator's own set-up: no agent and no key, an unreadable or unusable identity file (exit 2). */
  | 'identity'
  | 'hostkey-unknown'
  | 'hostkey-changed'
  | 'hostkey-revoked'
  | 'jump'
  | 'sudo'
  | 'closed'
  | 'other';

/** A one-line SSH problem, naming the node and what to do. */
export class SshError extends TwincigoError {
  constructor(
    readonly node: string,
    readonly kind: SshFailure,
    message: string,
    hints: string[] = [],
  ) {
    super(`${node}: ${message}`, kind === 'identity' ? EXIT.usage : EXIT.failed, hints);
  }
}

/**
 * Failures on the operator's side — credentials, host keys, the identity file — as opposed to the
 * node being down: a command that judges the cluster (status) must not report them as its state.
 */
export const OPERATOR_SIDE: ReadonlySet<SshFailure> = new Set(['auth', 'identity', 'hostkey-unknown', 'hostkey-changed', 'hostkey-revoked', 'sudo']);
export const isOperatorSide = (err: unknown): err is SshError => err instanceof SshError && OPERATOR_SIDE.has(err.kind);

const where = (t: SshTarget) => `${t.host}:${t.port}`;

/** Turns what ssh2 / the socket reports into a clear one-line error. */
export function classify(target: SshTarget, err: unknown): SshError {
  if (err instanceof SshError) return err;
  const e = err as NodeJS.ErrnoException & { level?: string };
  const msg = e?.message ?? String(err);
  const code = e?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return new SshError(target.label, 'dns', `cannot resolve host "${target.host}" (DNS lookup failed)`, [
      'check the node\'s host in the inventory, or HostName in ~/.ssh/config',
    ]);
  }
  if (code === 'ECONNREFUSED') {
    return new SshError(target.label, 'refused', `connection refused by ${where(target)}`, [
      'is sshd running on the node, and is the ssh port right?',
    ]);
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new SshError(target.label, 'unreachable', `host ${where(target)} is unreachable (${code})`);
  }
  if (e?.level === 'client-timeout' || /timed out/i.test(msg) || code === 'ETIMEDOUT') {
    return new SshError(
      target.label,
      'timeout',
      `timed out after ${target.connectTimeoutMs / 1000}s connecting to ${where(target)}`,
      ['is the node up and the port open? raise ssh.connectTimeout for slow links'],
    );
  }
  if (e?.level === 'client-authentication') {
    const tried = target.identityFiles.length > 0 ? target.identityFiles.join(', ') : 'no identity file';
    return new SshError(
      target.label,
      'auth',
      `authentication failed for ${target.user}@${where(target)} (tried: ssh-agent${process.env.SSH_AUTH_SOCK ? '' : ' (not running)'}, ${tried})`,
      ['is the public key in the user\'s authorized_keys? set ssh.user / ssh.identity in the inventory'],
    );
  }
  if (code === 'ECONNRESET' || /connection lost|not connected|No response from server/i.test(msg)) {
    return new SshError(target.label, 'closed', `connection to ${where(target)} was lost (${msg})`);
  }
  return new SshError(target.label, 'other', `ssh to ${where(target)} failed: ${msg}`);
}
