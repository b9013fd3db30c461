import { setTimeout as sleep } from 'node:timers/promises';
import { isLeader, type PatroniMember } from '../cluster/patroni.js';

export const runningLeader = (ms: readonly PatroniMember[]) => ms.find(isLeader);

/**
 * Watches Patroni for the leader to move, from the moment of the fault and alongside it: a
 * graceful stop or a switchover returns only once another member leads, so a watch started after
 * the fault command would see the new leader seconds late (found in CI: first write on the new
 * leader 3.9 s, "new leader seen" 6.5 s). Times are our clock when the answer arrived, so each is
 * late by at most one poll.
 */
export class LeaderWatch {
  /** When the old leader was first seen not leading. */
  lostAt: number | undefined;
  /** When another member was first seen running as leader, and who (the latest one seen). */
  newAt: number | undefined;
  newLeader: string | undefined;
  /** The last answer, for progress lines and timeouts. */
  lastSeen = 'no answer yet';
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly read: () => Promise<readonly PatroniMember[]>,
    private readonly oldLeader: string,
    private readonly intervalMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one answer; true once a new leader has been seen. */
  observe(members: readonly PatroniMember[]): boolean {
    const at = this.now();
    const l = runningLeader(members);
    if (this.lostAt === undefined && l?.name !== this.oldLeader) this.lostAt = at;
    if (l && l.name !== this.oldLeader) {
      this.newAt ??= at;
      this.newLeader = l.name;
    }
    this.lastSeen = l ? (l.name === this.oldLeader ? `${l.name} still leader` : `${l.name} leads`) : 'no leader';
    return this.newAt !== undefined;
  }

  /** Polls until a new leader is seen or stop(); a failed read (node busy, timeout) is retried. */
  start(): void {
    this.loop ??= (async () => {
      while (!this.stopped) {
        try {
          if (this.observe(await this.read())) return;
        } catch (err) {
          this.lastSeen = (err as Error).message;
        }
        if (!this.stopped) await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
