import type { Command } from 'commander';
import { defineCommand, lockWaitOption, seconds } from '../define.js';
import { session } from '../action.js';

/** `migrate --dir`, given before or after the subcommand. */
const migrationsDir = (cmd: Command): string | undefined => (cmd.optsWithGlobals() as { dir?: string }).dir;

export const migrateCommand = defineCommand({
  name: 'migrate',
  description: 'versioned SQL migrations (migrations/NNNN_name.sql) applied through the leader over an SSH tunnel',
  options: [{ flags: '--dir <path>', description: 'the migrations folder (default: migrations.dir in twincigo.yml, else migrations/ beside it)' }],
  subcommands: [
    defineCommand({
      name: 'status',
      description: 'applied, pending and changed-since-applied migrations; exit 1 when an applied file was changed',
      examples: ['twincigo migrate status --env dev', 'twincigo migrate status --env prod --json'],
      exits: ['1'],
      run: async (g, _args, _opts, cmd) => (await import('../../operations/migrate.js')).migrateStatus(await session(g), migrationsDir(cmd)),
    }),
    defineCommand({
      name: 'up',
      description: 'apply pending migrations in order, each in its own transaction with its tracking row; exit 1 on failure (rolled back)',
      options: [
        { flags: '--to <version>', description: 'stop after this version' },
        { flags: '--dry-run', description: 'show what would be applied; change nothing' },
        lockWaitOption("another operator's migration lock"),
        { flags: '--lock-timeout <duration>', description: 'PostgreSQL lock_timeout per migration (default from twincigo.yml, else 5s)' },
        { flags: '--statement-timeout <duration>', description: 'PostgreSQL statement_timeout per migration (default from twincigo.yml, else 15min)' },
      ],
      examples: ['twincigo migrate up --env dev --dry-run', 'twincigo migrate up --env dev', 'twincigo migrate up --env prod --to 0004 --yes'],
      exits: ['1'],
      run: async (g, _args, opts: { to?: string; dryRun?: boolean; lockWait: string; lockTimeout?: string; statementTimeout?: string }, cmd) => {
        const lockWait = seconds(opts.lockWait, '--lock-wait');
        const { migrateUp } = await import('../../operations/migrate.js');
        return migrateUp(await session(g), migrationsDir(cmd), { to: opts.to, dryRun: Boolean(opts.dryRun), lockWait, lockTimeout: opts.lockTimeout, statementTimeout: opts.statementTimeout });
      },
    }),
    defineCommand({
      name: 'create',
      description: 'write the next numbered migration file (no database involved)',
      args: [['<name>', 'what it does, e.g. add_contacts_table']],
      options: [{ flags: '--no-transaction', description: 'mark it to run outside a transaction (CREATE INDEX CONCURRENTLY)' }],
      examples: ['twincigo migrate create add_contacts_table', 'twincigo migrate create index_contacts_email --no-transaction'],
      run: async (g, [name], opts: { transaction: boolean }, cmd) => (await import('../../operations/migrate.js')).migrateCreate(g, migrationsDir(cmd), name, !opts.transaction),
    }),
  ],
});
