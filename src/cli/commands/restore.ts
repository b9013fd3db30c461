import { defineCommand, lockWaitOption, seconds } from '../define.js';
import { session } from '../action.js';

const REPO = { flags: '--repo <n>', description: "the repository to restore from: 1 the repository host's, 2 prod's offsite one (default: pgBackRest looks in each, in order)" };

export const restoreCommand = defineCommand({
  name: 'restore',
  description: 'point-in-time recovery of the whole cluster from pgBackRest: Patroni stopped, one member restored and promoted on a new timeline, the others re-cloned from it',
  options: [
    { flags: '--to <target>', description: 'a time with its zone (2026-11-30T12:00:00Z: every commit up to it, none after), a backup label, or latest (asked on a TTY)' },
    REPO,
    lockWaitOption("another operator's lock"),
  ],
  examples: ['twincigo restore --env dev --to 2026-11-30T12:00:00Z', 'twincigo restore --env prod --to latest', 'twincigo restore --env dev --to 20261130-030002F --yes --json'],
  exits: ['1'],
  run: async (g, _args, opts: { to?: string; repo?: string; lockWait: string }) => {
    const lockWaitSec = seconds(opts.lockWait, '--lock-wait');
    const ctx = await session(g);
    const op = await import('../../operations/restore.js');
    return op.restore(ctx, { to: opts.to ?? (await op.askTarget(ctx)), repo: opts.repo, lockWaitSec });
  },
});

export const restoreTestCommand = defineCommand({
  name: 'restore-test',
  description: 'a restore drill that changes nothing: the latest backup and the WAL after it restored into a scratch container on a node that does not lead, started, queried, measured, removed; exit 1 when it does not start',
  options: [{ flags: '--to <target>', description: 'latest (default), a backup label or a time with its zone', default: 'latest' }, REPO, lockWaitOption("another operator's lock")],
  examples: ['twincigo restore-test --env prod', 'twincigo restore-test --env dev --json'],
  exits: ['1'],
  run: async (g, _args, opts: { to: string; repo?: string; lockWait: string }) => {
    const lockWaitSec = seconds(opts.lockWait, '--lock-wait');
    return (await import('../../operations/restore.js')).restoreTest(await session(g), { to: opts.to, repo: opts.repo, lockWaitSec });
  },
});
