import { setTimeout as sleep } from 'node:timers/promises';
import { clusterStatus, type ExecSource } from '../status/collect.js';
import { KeptConnections } from '../ssh/persist/kept.js';
import { statusTable } from '../status/table.js';
import type { ClusterStatus } from '../status/model.js';
import { InterruptedError } from '../errors.js';
import type { Session } from '../session/session.js';
import { operate } from '../session/operation.js';

/** Probe time on top of the SSH connect timeout: a dead etcd or Patroni never makes status hang. */
const PROBE_TIMEOUT_MS = 8000;

const once = (ctx: Session, nodes: ExecSource): Promise<ClusterStatus> => clusterStatus(nodes, ctx.config.env, ctx.config.nodes, PROBE_TIMEOUT_MS);

/** Rejects when the signal aborts: Ctrl-C ends status at once (exit 130), also mid-probe on a dead node. */
function interruption(signal: AbortSignal): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    const stop = () => reject(new InterruptedError('status interrupted'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  p.catch(() => {});
  return p;
}

/** `twincigo status [--watch [sec]]`: exit 0 healthy, 3 degraded, 4 no leader / down. */
export function status(ctx: Session, watchSec: number | undefined): Promise<number> {
  return operate(ctx, async ({ pool, signal }) => {
    // connections kept between invocations (ssh.persist): a repeated status skips the handshakes
    const kept = new KeptConnections(pool);
    const { Chalk } = await import('chalk');
    const c = new Chalk({ level: ctx.ui.isTTY && ctx.options.color ? 1 : 0 });
    const paint = { ok: c.green, bad: c.red, warn: c.yellow };
    const interrupted = interruption(signal);
    for (;;) {
      const s = await Promise.race([once(ctx, kept), interrupted]);
      kept.flush();
      ctx.ui.json(s);
      if (watchSec !== undefined && ctx.ui.isTTY && !ctx.options.json) process.stdout.write('\x1b[2J\x1b[H');
      ctx.ui.print(statusTable(s, paint) + (watchSec !== undefined ? `\n\n(every ${watchSec}s — Ctrl-C to stop) ${new Date().toLocaleTimeString()}` : ''));
      if (watchSec === undefined) return s.exitCode;
      await Promise.race([sleep(watchSec * 1000, undefined, { signal }).catch(() => undefined), interrupted]);
    }
  });
}
