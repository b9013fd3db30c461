import { defineCommand, lockWaitOption, seconds, type CommandDef } from '../define.js';
import { session } from '../action.js';

const ACTIONS = {
  status: { description: 'who holds the lock, since when', examples: ['twincigo lock status --env prod'] },
  acquire: { description: 'take the lock (keeps bootstrap/deploy out)', examples: ['twincigo lock acquire --env prod -m "restoring a backup"', 'twincigo lock acquire --env prod --lock-wait 300'] },
  release: { description: 'release the lock, whoever holds it', examples: ['twincigo lock release --env prod'] },
} as const;

export const lockCommand = defineCommand({
  name: 'lock',
  description: "the environment's lock: bootstrap and deploy hold it while they run",
  subcommands: (Object.keys(ACTIONS) as Array<keyof typeof ACTIONS>).map(
    (action): CommandDef => ({
      name: action,
      description: ACTIONS[action].description,
      options: action === 'acquire' ? [{ flags: '-m, --message <text>', description: 'why (shown to whoever is kept out)' }, lockWaitOption()] : [],
      examples: [...ACTIONS[action].examples],
      exits: ['1'],
      run: async (g, _args, opts: { message?: string; lockWait?: string }) => {
        const wait = seconds(opts.lockWait ?? '0', '--lock-wait');
        return (await import('../../operations/lock.js')).lock(await session(g), action, opts.message, wait);
      },
    }),
  ),
});
