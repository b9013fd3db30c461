import { EXIT } from '../../errors.js';
import { acquireLock, auditEverywhere, auditLine, describeHolder, operator, readLock, releaseLock } from '../../cluster/lock.js';
import { createContext, type Context, type GlobalOptions } from '../context.js';
import { sshPool } from '../session.js';

type Action = 'status' | 'acquire' | 'release';

/** The lock lives on the environment's first node (whatever --nodes says). */
async function withLockNode<T>(ctx: Context, fn: (conn: Awaited<ReturnType<ReturnType<typeof sshPool>['get']>>, pool: ReturnType<typeof sshPool>) => Promise<T>): Promise<T> {
  const pool = sshPool(ctx);
  try {
    return await fn(await pool.get(ctx.config.env.nodes[0]!), pool);
  } finally {
    await pool.closeAll();
  }
}

/** Appends the event to the audit log of every node. */
const audit = (ctx: Context, pool: ReturnType<typeof sshPool>, line: string) =>
  auditEverywhere(pool, ctx.config.env.nodes, ctx.config.env.baseDir, line, (m) => ctx.ui.warn(m));

/** `twincigo lock status|acquire -m MSG|release` */
export async function lock(g: GlobalOptions, action: Action, message: string | undefined, waitSec = 0): Promise<number> {
  const ctx = await createContext(g);
  const env = ctx.config.env;
  const base = env.baseDir;
  return withLockNode(ctx, async (conn, pool) => {
    if (action === 'status') {
      const held = await readLock(conn, base);
      ctx.ui.json({ environment: env.name, locked: held !== null, holder: held });
      ctx.ui.print(held ? `${env.name} is locked by ${describeHolder(held)}` : `${env.name} is not locked`);
      return EXIT.ok;
    }
    if (action === 'acquire') {
      const details = { by: operator(), command: 'lock acquire', env: env.name, since: new Date().toISOString(), ...(message ? { message } : {}) };
      await acquireLock(conn, base, details, waitSec * 1000, (holder) => ctx.ui.info(`waiting for the lock held by ${holder} …`));
      await audit(ctx, pool, auditLine({ by: details.by, env: env.name, command: 'lock acquire', result: 'ok', detail: message }));
      ctx.ui.json({ environment: env.name, locked: true, holder: details });
      ctx.ui.print(`${env.name} locked by ${details.by}${message ? `: ${message}` : ''}`);
      return EXIT.ok;
    }
    const held = await readLock(conn, base);
    if (!held) {
      ctx.ui.json({ environment: env.name, locked: false, released: null });
      ctx.ui.print(`${env.name} was not locked`);
      return EXIT.ok;
    }
    await releaseLock(conn, base);
    await audit(ctx, pool, auditLine({ by: operator(), env: env.name, command: 'lock release', result: 'ok', detail: `held by ${describeHolder(held)}` }));
    ctx.ui.json({ environment: env.name, locked: false, released: held });
    ctx.ui.print(`${env.name} unlocked (it was held by ${describeHolder(held)})`);
    return EXIT.ok;
  });
}
