import { setTimeout as sleep } from 'node:timers/promises';
import { clusterStatus, type ExecSource } from '../../status/collect.js';
import { KeptConnections } from '../../ssh/persist/kept.js';
import { statusTable } from '../../status/table.js';
import type { ClusterStatus } from '../../status/model.js';
import { InterruptedError } from '../../errors.js';
import { createContext, type Context, type GlobalOptions } from '../context.js';
import { interruptSignal, sshPool } from '../session.js';

/** Probe time on top of the SSH connect timeout: a dead etcd or Patroni never makes status hang. */
const PROBE_TIMEOUT_MS = 8000;

const once = (ctx: Context, nodes: ExecSource): Promise<ClusterStatus> => clusterStatus(nodes, ctx.config.env, ctx.config.nodes, PROBE_TIMEOUT_MS);

/** `twincigo status [--watch [sec]]`: exit 0 healthy, 3 degraded, 4 no leader / down. */
export async function status(g: GlobalOptions, watchSec: number | undefined): Promise<number> {
  const ctx = await createContext(g);
  const pool = sshPool(ctx);
  // connections kept between invocations (ssh.persist): a repeated status skips the handshakes
  const kept = new KeptConnections(pool);
  const { signal, dispose } = interruptSignal(ctx);
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: ctx.ui.isTTY && g.color ? 1 : 0 });
  const paint = { ok: c.green, bad: c.red, warn: c.yellow };
  try {
    // Ctrl-C ends status at once (exit 130), also in the middle of a probe waiting on a dead node
    const interrupted = new Promise<never>((_, reject) => {
      const stop = () => reject(new InterruptedError('status interrupted'));
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
    interrupted.catch(() => {});
    for (;;) {
      const s = await Promise.race([once(ctx, kept), interrupted]);
      kept.flush();
      ctx.ui.json(s);
      if (watchSec !== undefined && ctx.ui.isTTY && !g.json) process.stdout.write('\x1b[2J\x1b[H');
      ctx.ui.print(statusTable(s, paint) + (watchSec !== undefined ? `\n\n(every ${watchSec}s — Ctrl-C to stop) ${new Date().toLocaleTimeString()}` : ''));
      if (watchSec === undefined) return s.exitCode;
      try {
        await sleep(watchSec * 1000, undefined, { signal });
      } catch {
        throw new InterruptedError('status interrupted');
      }
    }
  } finally {
    dispose();
    // after Ctrl-C, a connection still being opened to a dead node is not waited for
    if (signal.aborted) void pool.closeAll();
    else await pool.closeAll();
  }
}
