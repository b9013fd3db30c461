import { defineCommand, lockWaitOption, seconds } from '../define.js';
import { session } from '../action.js';
import { UsageError } from '../../errors.js';

const cloneFrom = (v: string): 'backup' | 'leader' => {
  if (v !== 'backup' && v !== 'leader') throw new UsageError('--clone-from takes backup or leader');
  return v;
};

export const nodeCommand = defineCommand({
  name: 'node',
  description: "the cluster's membership: replace a dead node with a new machine, add a node, remove one",
  subcommands: [
    {
      name: 'replace',
      description: 'a dead node onto a bare replacement machine (same name; same or new address): its etcd member, Swarm entry and Patroni key out, the replacement in and cloned, every survivor reloaded in place',
      args: [['<node>', 'the dead node, as the inventory names it']],
      options: [
        { flags: '--host <address>', description: 'the replacement\'s address, when it is not the inventory\'s (the inventory is updated after success)' },
        { flags: '--private-address <address>', description: 'its cluster address, when it differs from --host' },
        { flags: '--clone-from <source>', description: 'leader: a base backup from the leader; backup: the latest backup restored, then WAL from the archive (from the leader when there is no repository or no backup)', default: 'leader' },
        { flags: '--no-firewall', description: "leave the nodes' firewall alone" },
        { flags: '--ship-images', description: "send images from this machine's Docker over SSH instead of pulling" },
        lockWaitOption(),
      ],
      examples: [
        'twincigo node replace ubuntu-8gb-ash-2 --env dev',
        'twincigo node replace ubuntu-8gb-ash-2 --env prod --host 178.156.186.77 --accept-new-host-keys',
        'twincigo node replace ubuntu-8gb-hil-1 --env prod --clone-from backup --yes --json   # CI',
      ],
      exits: ['1', '3', '4'],
      run: async (g, [node]: [string], opts: { host?: string; privateAddress?: string; cloneFrom: string; firewall: boolean; shipImages?: boolean; lockWait: string }) => {
        const lockWaitSec = seconds(opts.lockWait, '--lock-wait');
        const { nodeReplace } = await import('../../operations/node.js');
        return nodeReplace(await session(g), node, {
          host: opts.host, privateAddress: opts.privateAddress, cloneFrom: cloneFrom(opts.cloneFrom), firewall: opts.firewall, shipImages: Boolean(opts.shipImages), lockWaitSec,
        });
      },
    },
    {
      name: 'add',
      description: 'a node the inventory lists but the cluster has not had joins it: its etcd member (etcd stays odd), Patroni replica, HAProxy, services; the others reloaded in place',
      args: [['<node>', 'the new node, already in the inventory with its roles']],
      options: [
        { flags: '--clone-from <source>', description: 'leader: a base backup from the leader; backup: the latest backup restored, then WAL from the archive (from the leader when there is no repository or no backup)', default: 'leader' },
        { flags: '--no-firewall', description: "leave the nodes' firewall alone" },
        { flags: '--ship-images', description: "send images from this machine's Docker over SSH instead of pulling" },
        lockWaitOption(),
      ],
      examples: ['twincigo node add ubuntu-8gb-fsn-1 --env prod --accept-new-host-keys', 'twincigo node add ubuntu-8gb-fsn-1 --env prod --clone-from backup --yes --json   # CI'],
      exits: ['1', '3', '4'],
      run: async (g, [node]: [string], opts: { cloneFrom: string; firewall: boolean; shipImages?: boolean; lockWait: string }) => {
        const flags = { cloneFrom: cloneFrom(opts.cloneFrom), firewall: opts.firewall, shipImages: Boolean(opts.shipImages), lockWaitSec: seconds(opts.lockWait, '--lock-wait') };
        return (await import('../../operations/node.js')).nodeAdd(await session(g), node, flags);
      },
    },
    {
      name: 'remove',
      description: 'a node out of the cluster (at least three nodes stay, etcd odd, every role on another node): the leader handed over, its members removed, the others reloaded, its containers stopped; the inventory loses it',
      args: [['<node>', 'the node to take out']],
      options: [{ flags: '--no-firewall', description: "leave the nodes' firewall alone" }, lockWaitOption()],
      examples: ['twincigo node remove ubuntu-8gb-fsn-1 --env prod', 'twincigo node remove ubuntu-8gb-fsn-1 --env prod --yes --json   # CI'],
      exits: ['1', '3', '4'],
      run: async (g, [node]: [string], opts: { firewall: boolean; lockWait: string }) => {
        const flags = { cloneFrom: 'leader' as const, firewall: opts.firewall, shipImages: false, lockWaitSec: seconds(opts.lockWait, '--lock-wait') };
        return (await import('../../operations/node.js')).nodeRemove(await session(g), node, flags);
      },
    },
  ],
});
