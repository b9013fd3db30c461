import { defineCommand, lockWaitOption, seconds } from '../define.js';
import { session } from '../action.js';

export const bootstrapCommand = defineCommand({
  name: 'bootstrap',
  description: 'from bare nodes to a healthy cluster: preflight, firewall, upload, images, etcd, Patroni, HAProxy, database, services; re-runs converge',
  options: [
    { flags: '--dry-run', description: 'print the plan (phases × nodes, firewall rules, files) and contact no node' },
    { flags: '--no-firewall', description: "leave the nodes' firewall alone" },
    { flags: '--ship-images', description: "send images from this machine's Docker over SSH (docker save | docker load) instead of pulling" },
    lockWaitOption(),
  ],
  examples: ['twincigo bootstrap --env dev --dry-run', 'twincigo bootstrap --env dev', 'twincigo bootstrap --env prod --yes --json   # CI'],
  exits: ['1', '3', '4'],
  run: async (g, _args, opts: { dryRun?: boolean; firewall: boolean; shipImages?: boolean; lockWait: string }) => {
    const lockWaitSec = seconds(opts.lockWait, '--lock-wait');
    const { bootstrap } = await import('../../operations/bootstrap.js');
    return bootstrap(await session(g), { dryRun: Boolean(opts.dryRun), firewall: opts.firewall, shipImages: Boolean(opts.shipImages), lockWaitSec });
  },
});
