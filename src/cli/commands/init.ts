import { defineCommand } from '../define.js';

export const initCommand = defineCommand({
  name: 'init',
  description: 'write twincigo.yml (or add an environment to it) and its env file with generated secrets; asks on a TTY',
  options: [
    { flags: '--profile <profile>', description: 'dev or prod (default: prod for an environment named prod, else dev)' },
    { flags: '--node <name=host>', description: 'a node, in order (the first is the initial leader); repeat for each', repeat: true },
    { flags: '--private-address <name=ip>', description: 'the IPv4 address the other nodes reach a node at (needed when its host is a name)', repeat: true },
    { flags: '--role <name=roles>', description: "a node's roles, comma-separated (default: the design's three-node shape)", repeat: true },
  ],
  examples: ['twincigo init', 'twincigo init --env dev --node hil-1=5.78.103.224 --node ash-1=5.161.110.205 --node ash-2=178.156.186.10 --yes'],
  run: async (g, _args, opts: { profile?: string; node: string[]; privateAddress: string[]; role: string[] }) =>
    (await import('../../operations/init.js')).init(g, { profile: opts.profile, node: opts.node, privateAddress: opts.privateAddress, roles: opts.role }),
});
