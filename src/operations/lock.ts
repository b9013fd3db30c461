import { EXIT } from '../errors.js';
import { acquireLock, describeHolder, readLock, releaseLock } from '../cluster/lock.js';
import type { Session } from '../session/session.js';
import { operate } from '../session/operation.js';

type Action = 'status' | 'acquire' | 'release';

/** `twincigo lock status|acquire -m MSG|release` */
export function lock(ctx: Session, action: Action, message: string | undefined, waitSec = 0): Promise<number> {
  const env = ctx.config.env;
  const base = env.baseDir;
  // the lock lives on the environment's first node (whatever --nodes says)
  return operate(ctx, async (op) => {
    const conn = await op.pool.get(env.nodes[0]!);
    if (action === 'status') {
      const held = await readLock(conn, base);
      ctx.ui.json({ environment: env.name, locked: held !== null, holder: held });
      ctx.ui.print(held ? `${env.name} is locked by ${describeHolder(held)}` : `${env.name} is not locked`);
      return EXIT.ok;
    }
    if (action === 'acquire') {
      const details = { by: op.by, command: 'lock acquire', env: env.name, since: new Date().toISOString(), ...(message ? { message } : {}) };
      await acquireLock(conn, base, details, waitSec * 1000, (holder) => ctx.ui.info(`waiting for the lock held by ${holder} …`));
      await op.audit('lock acquire', 'ok', message);
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
    await op.audit('lock release', 'ok', `held by ${describeHolder(held)}`);
    ctx.ui.json({ environment: env.name, locked: false, released: held });
    ctx.ui.print(`${env.name} unlocked (it was held by ${describeHolder(held)})`);
    return EXIT.ok;
  });
}
