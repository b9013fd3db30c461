import { defineCommand, wholeNumber } from '../define.js';
import { session } from '../action.js';
export const auditCommand = defineCommand({
  name: 'audit',
  description: 'the audit log of every node (bootstrap, lock, switchover …), merged by time',
  options: [{ flags: '-n, --lines <n>', description: 'the last lines', default: '50' }],
  examples: ['twincigo audit --env dev', 'twincigo audit --env prod --lines 200'],
  exits: ['1'],
  run: async (g, _args, opts: { lines: string }) => {
    const lines = wholeNumber(opts.lines, '--lines', 1);
    return (await import('../../operations/audit.js')).audit(await session(g), lines);
  },
});
