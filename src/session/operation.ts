import { auditEverywhere, auditLine } from '../audit/write.js';
import { operator, withLock } from '../cluster/lock.js';
import type { SshPool } from '../ssh/pool.js';
import { guardProd, type Session } from './session.js';
import { interruptSignal, sshPool } from './ssh.js';

/** What an operation runs with: the session, one SSH pool, the Ctrl-C signal, who runs it. */
export interface Operation {
  readonly session: Session;
  readonly pool: SshPool;
  readonly signal: AbortSignal;
  /** The operator (TWINCIGO_OPERATOR, else user@host): in locks and audit lines. */
  readonly by: string;
  /** Runs fn holding the environment's lock (on its first node); released however fn ends. */
  locked<T>(command: string, waitSec: number, fn: () => Promise<T>): Promise<T>;
  /** One audit line on every node of the environment; a node that cannot be written is a warning. */
  audit(command: string, result: string, detail?: string): Promise<void>;
}

export interface OperateOptions {
  /** The prod guard's question ("deploy changes prod."): on prod the operator types its name. */
  guard?: string;
}

/**
 * The one lifecycle of every operation on the nodes: prod guard → SSH pool and Ctrl-C signal →
 * the body (which takes the lock and writes audit lines through `op`) → close. After Ctrl-C the
 * pool is closed without waiting for a connection still being opened to a node that does not answer.
 */
export async function operate<T>(session: Session, body: (op: Operation) => Promise<T>, opts: OperateOptions = {}): Promise<T> {
  if (opts.guard) await guardProd(session, opts.guard);
  const env = session.config.env;
  const pool = sshPool(session);
  const { signal, dispose } = interruptSignal(session);
  const by = operator();
  const op: Operation = {
    session,
    pool,
    signal,
    by,
    locked: async (command, waitSec, fn) =>
      withLock(
        await pool.get(env.nodes[0]!),
        env.baseDir,
        { by, command, env: env.name, since: new Date().toISOString() },
        {
          waitMs: waitSec * 1000,
          onWait: (h) => session.ui.info(`waiting for the lock held by ${h} …`),
          onReleaseError: (e) => session.ui.warn(`lock not released: ${e.message} (twincigo lock release)`),
        },
        fn,
      ),
    audit: (command, result, detail) =>
      auditEverywhere(pool, env.nodes, env.baseDir, auditLine({ by, env: env.name, command, result, ...(detail !== undefined ? { detail } : {}) }), (m) => session.ui.warn(m)),
  };
  try {
    return await body(op);
  } finally {
    dispose();
    if (signal.aborted) void pool.closeAll();
    else await pool.closeAll();
  }
}
