import { defineCommand, seconds } from '../define.js';
import { session } from '../action.js';
export const statusCommand = defineCommand({
  name: 'status',
  description: 'the cluster at a glance: Patroni roles, lag, etcd, HAProxy routing, containers; exit 0 healthy, 3 degraded, 4 down',
  options: [{ flags: '-w, --watch [seconds]', description: 'redraw every few seconds until Ctrl-C (default 2)' }],
  examples: ['twincigo status --env dev', 'twincigo status --env prod --json | jq .warnings', 'twincigo status --env dev --watch 5'],
  exits: ['1', '3', '4'],
  run: async (g, _args, opts: { watch?: string | boolean }) => {
    const watch = opts.watch === undefined ? undefined : opts.watch === true ? 2 : seconds(String(opts.watch), '--watch', { positive: true });
    return (await import('../../operations/status.js')).status(await session(g), watch);
  },
});
