import { defineCommand, wholeNumber } from '../define.js';
import { session } from '../action.js';
export const logsCommand = defineCommand({
  name: 'logs',
  description: "a service's container logs from every node that runs it, each line prefixed with its node",
  args: [['<service>', 'e.g. patroni, etcd, haproxy, backend, kong']],
  options: [
    { flags: '-f, --follow', description: 'follow all nodes at once until Ctrl-C' },
    { flags: '-n, --lines <n>', description: 'last lines per node', default: '100' },
    { flags: '--since <when>', description: 'only since then (e.g. 10m, 2h, 2026-11-25T10:00:00)' },
    { flags: '--grep <regex>', description: 'only lines matching' },
  ],
  examples: ['twincigo logs patroni --env dev --lines 50', 'twincigo logs haproxy --env dev -f', 'twincigo logs backend --env dev --since 10m --grep ERROR'],
  exits: ['1'],
  run: async (g, [service], opts: { follow?: boolean; lines: string; since?: string; grep?: string }) => {
    const lines = wholeNumber(opts.lines, '--lines');
    const { logs } = await import('../../operations/logs.js');
    return logs(await session(g), service, { lines, since: opts.since, follow: Boolean(opts.follow), grep: opts.grep });
  },
});
