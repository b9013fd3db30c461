import { defineCommand } from '../define.js';
import { session } from '../action.js';

export const configCommand = defineCommand({
  name: 'config',
  description: 'print the resolved inventory and env for each node, secrets redacted',
  examples: ['twincigo config --env dev', 'twincigo config --env prod --json | jq .nodes'],
  run: async (g) => (await import('../../operations/config.js')).showConfig(await session(g)),
  subcommands: [
    defineCommand({
      name: 'check',
      description: 'validate the inventory and env files; exit 0 when valid, 2 with every problem listed',
      examples: ['twincigo config check', 'twincigo config check --env prod   # the gate CI runs on every push'],
      run: async (g) => (await import('../../operations/config.js')).checkConfig(g),
    }),
  ],
});

export const envCommand = defineCommand({
  name: 'env',
  description: 'the env files',
  subcommands: [
    defineCommand({
      name: 'check',
      description: 'list missing, placeholder, weak and invalid values (e.g. an ANON_KEY not signed with JWT_SECRET); exit 0 or 2',
      examples: ['twincigo env check --env dev', 'twincigo env check --env prod --json'],
      run: async (g) => (await import('../../operations/secrets.js')).envCheck(await session(g)),
    }),
  ],
});

export const secretsCommand = defineCommand({
  name: 'secrets',
  description: "the secrets of an environment's env file",
  subcommands: [
    defineCommand({
      name: 'init',
      description: 'generate every missing secret (passwords, JWT_SECRET, ANON/SERVICE_ROLE keys, pgsodium/vault keys) into the env file, 0600',
      options: [{ flags: '--rotate <key...>', description: 'replace these existing secrets too (asks unless --yes)' }],
      examples: ['twincigo secrets init --env dev', 'twincigo secrets init --env dev --rotate JWT_SECRET', 'twincigo secrets init --env prod --rotate REDIS_PASSWORD --yes   # CI'],
      run: async (g, _args, opts: { rotate?: string[] }) => (await import('../../operations/secrets.js')).secretsInit(await session(g), opts.rotate ?? []),
    }),
  ],
});
