import { defineCommand, lockWaitOption, seconds } from '../define.js';
import { session } from '../action.js';

export const switchoverCommand = defineCommand({
  name: 'switchover',
  description: 'a planned leader change through Patroni, measured: waits until every HAProxy routes to the new leader, prints the write outage',
  options: [{ flags: '--to <node>', description: 'the replica to hand over to (default: Patroni picks a healthy one)' }, lockWaitOption()],
  examples: ['twincigo switchover --env dev', 'twincigo switchover --env dev --to ubuntu-8gb-ash-1'],
  exits: ['1'],
  run: async (g, _args, opts: { to?: string; lockWait: string }) => {
    const wait = seconds(opts.lockWait, '--lock-wait');
    return (await import('../../operations/switchover.js')).switchover(await session(g), opts.to, wait);
  },
});
