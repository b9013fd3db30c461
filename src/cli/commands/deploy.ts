import { defineCommand, lockWaitOption, seconds } from '../define.js';
import { session } from '../action.js';

const rolesOption = { flags: '--roles <roles>', description: 'only nodes with one of these roles (comma-separated)' };

export const deployCommand = defineCommand({
  name: 'deploy',
  description: 'render, compare with what each node runs, change only that: reloads, recreates node by node, Patroni restarts with a switchover; a failing node is rolled back',
  options: [{ flags: '--dry-run', description: 'the plan per node and a diff of the files (secrets redacted); nothing changed' }, rolesOption, lockWaitOption()],
  examples: ['twincigo deploy --env dev --dry-run', 'twincigo deploy --env dev', 'twincigo deploy --env prod --roles haproxy --yes'],
  exits: ['1'],
  run: async (g, _args, opts: { dryRun?: boolean; roles?: string; lockWait: string }) => {
    const lockWaitSec = seconds(opts.lockWait, '--lock-wait');
    return (await import('../../operations/deploy.js')).deploy(await session(g), { dryRun: Boolean(opts.dryRun), lockWaitSec, roles: opts.roles });
  },
});

export const releasesCommand = defineCommand({
  name: 'releases',
  description: 'the releases each node keeps, and which one is live',
  examples: ['twincigo releases --env dev', 'twincigo releases --env dev --json'],
  exits: ['1'],
  run: async (g) => (await import('../../operations/deploy.js')).releases(await session(g)),
});

export const rollbackCommand = defineCommand({
  name: 'rollback',
  description: 'make the previous release (or --to RELEASE) live again, the way deploy does',
  options: [
    { flags: '--to <release>', description: 'the release id (twincigo releases lists them)' },
    { flags: '--dry-run', description: 'the plan and what would change; nothing changed' },
    rolesOption,
    lockWaitOption(),
  ],
  examples: ['twincigo rollback --env dev --dry-run', 'twincigo rollback --env dev --to 20261130-101500'],
  exits: ['1'],
  run: async (g, _args, opts: { to?: string; dryRun?: boolean; roles?: string; lockWait: string }) => {
    const lockWaitSec = seconds(opts.lockWait, '--lock-wait');
    return (await import('../../operations/deploy.js')).rollback(await session(g), { to: opts.to, dryRun: Boolean(opts.dryRun), lockWaitSec, roles: opts.roles });
  },
});
