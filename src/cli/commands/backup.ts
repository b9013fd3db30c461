import { defineCommand, lockWaitOption, seconds } from '../define.js';
import { session } from '../action.js';
import { UsageError } from '../../errors.js';

const TYPES = ['full', 'diff', 'incr'] as const;

export const backupCommand = defineCommand({
  name: 'backup',
  description: 'a pgBackRest backup taken by the repository host (role backup), from a streaming standby when there is one',
  options: [
    { flags: '--type <type>', description: 'full | diff | incr', default: 'incr' },
    { flags: '--repo <n>', description: "1: the repository host's (default); 2: prod's offsite S3 repository" },
    lockWaitOption("another operator's lock"),
  ],
  examples: ['twincigo backup --env dev --type full', 'twincigo backup list --env prod --json', 'twincigo backup check --env prod'],
  exits: ['1'],
  run: async (g, _args, opts: { type: string; repo?: string; lockWait: string }) => {
    if (!(TYPES as readonly string[]).includes(opts.type)) throw new UsageError(`--type must be one of ${TYPES.join(', ')}, not ${opts.type}`);
    const lockWaitSec = seconds(opts.lockWait, '--lock-wait');
    return (await import('../../operations/backup.js')).backupRun(await session(g), { type: opts.type as (typeof TYPES)[number], repo: opts.repo, lockWaitSec });
  },
  subcommands: [
    defineCommand({
      name: 'list',
      description: 'every backup in the repository (label, type, start/stop, sizes, WAL range) and the archive’s range',
      examples: ['twincigo backup list --env dev', 'twincigo backup list --env prod --json'],
      exits: ['1'],
      run: async (g) => (await import('../../operations/backup.js')).backupList(await session(g)),
    }),
    defineCommand({
      name: 'check',
      description: 'archiving works end to end: a WAL segment forced on the primary must reach the repository; exit 1 when not',
      examples: ['twincigo backup check --env prod', 'twincigo backup check --env dev --json'],
      exits: ['1'],
      run: async (g) => (await import('../../operations/backup.js')).backupCheck(await session(g)),
    }),
  ],
});
