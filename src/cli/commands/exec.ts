import { UsageError } from '../../errors.js';
import { defineCommand } from '../define.js';
import { session } from '../action.js';

export const execCommand = defineCommand({
  name: 'exec',
  description: 'run a command on a node (attached to this terminal), on the leader, or on all nodes; exit code passed through',
  args: [
    ['[node]', 'the node to run on (or --leader / --all)'],
    ['[command...]', 'after --: the command and its arguments'],
  ],
  options: [
    { flags: '--leader', description: "on the Patroni leader's node" },
    { flags: '--all', description: 'on every node (--nodes filters), output prefixed per node' },
    { flags: '--in <service>', description: "inside the service's container (docker exec), e.g. patroni, etcd" },
  ],
  examples: ['twincigo exec ubuntu-8gb-ash-1 --env dev -- df -h', 'twincigo exec --leader --in patroni --env dev -- patronictl -c /etc/patroni/patroni.yml list', 'twincigo exec --all --env dev -- uptime'],
  exits: ['1', '*'],
  run: async (g, [node, command]: [string | undefined, string[]], opts: { leader?: boolean; all?: boolean; in?: string }) => {
    // with --leader/--all the first word after -- is the command, not a node
    const argv = opts.leader || opts.all ? [...(node !== undefined ? [node] : []), ...command] : command;
    if (argv.length === 0) throw new UsageError('no command given: twincigo exec <node> -- <command…>');
    const { execCommand: exec } = await import('../../operations/exec.js');
    return exec(await session(g), argv, { node: opts.leader || opts.all ? undefined : node, leader: Boolean(opts.leader), all: Boolean(opts.all), in: opts.in });
  },
});
