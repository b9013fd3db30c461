import type { Command } from '../remote/shell.js';
import type { ExecOptions, ExecResult, SshConnection } from '../ssh/connection.js';

/**
 * Swarm's managers electing a leader (a manager back from a cut brings a higher term): its API
 * refuses every request — reads too, a manager forwards them to the leader — for a moment, in
 * several wordings ("The swarm does not have a leader" among them: a CI run's drill failed on it
 * after 28 s of the others; a later one failed on a `docker node ls` read just after the cut node
 * was back).
 */
const ELECTING = /lost leader status|no elected cluster leader|does not have a leader|raft: failed to process the request|context deadline exceeded/;

export const isElecting = (message: string) => ELECTING.test(message);

/** A request to the swarm, retried (for up to a minute) while its managers elect a leader. */
export async function whileElecting<T>(change: () => Promise<T>, opts: { signal?: AbortSignal; log?: (s: string) => void } = {}): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      return await change();
    } catch (err) {
      if (!isElecting(String((err as Error).message)) || Date.now() > until) throw err;
      opts.log?.('waiting: the swarm\'s managers are electing a leader');
      await new Promise((r) => setTimeout(r, 1000));
      opts.signal?.throwIfAborted();
    }
  }
}

/**
 * A command that asks the swarm's managers (a read or a change), run on `c` and retried while they
 * elect a leader: every request to the swarm's API goes through this, never a bare `c.run`.
 */
export const onSwarm = (c: SshConnection, cmd: Command, opts: ExecOptions & { timeoutMs: number; log?: (s: string) => void }): Promise<ExecResult> => {
  const { log, ...exec } = opts;
  return whileElecting(() => c.run(cmd, exec), { log, signal: opts.signal });
};
