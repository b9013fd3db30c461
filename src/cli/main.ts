import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT, TwincigoError, UsageError } from '../errors.js';
import { didYouMean } from '../config/env-parse.js';
import { addHelpTexts } from './help.js';
import type { GlobalOptions } from './context.js';

/**
 * The CLI layer: parses arguments and calls the command modules. Everything heavy (config, SSH,
 * listr2, prompts) is imported lazily inside the actions so that --help starts fast.
 */
export function buildProgram(): Command {
  const program = new Command('twincigo')
    .description('Operator CLI for the TwinCiGo CRM cluster (Patroni, etcd, HAProxy, Supabase) over SSH')
    .version(packageVersion(), '-V, --version')
    .option('-e, --env <name>', 'environment from the inventory (dev, prod, lab …); env var TWINCIGO_ENV')
    .option('-c, --config <file>', 'inventory file', 'twincigo.yml')
    .option('--nodes <names>', 'only these nodes (comma-separated names or globs, e.g. ash-*)')
    .option('--json', 'machine-readable result on stdout; logs go to stderr')
    .option('-y, --yes', 'never prompt (CI): missing choices are errors')
    .option('-v, --verbose', 'more detail (secrets stay redacted)')
    .option('-q, --quiet', 'only errors and the result')
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .option('--accept-new-host-keys', 'record SSH host keys of nodes not yet in known_hosts (never replaces a changed key)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: true })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const config = program
    .command('config')
    .description('print the resolved inventory and env for each node, secrets redacted')
    .action(async (_opts, cmd: Command) => {
      const { showConfig } = await import('./commands/config.js');
      await run(cmd, (g) => showConfig(g));
    });
  config
    .command('check')
    .description('validate the inventory and env files; exit 0 when valid, 2 with every problem listed')
    .action(async (_opts, cmd: Command) => {
      const { checkConfig } = await import('./commands/config.js');
      await run(cmd, (g) => checkConfig(g));
    });
  program
    .command('render')
    .description('write (or print) exactly what would be uploaded to each node: compose files, configs, .env')
    .option('-o, --out <dir>', 'write the files under <dir>/<node>/ (secret-bearing files 0600); default: print them, secrets redacted')
    .option('--etcd-state <state>', 'etcd initial cluster state: new (creating the cluster) or existing (joining one)', 'new')
    .action(async (opts: { out?: string; etcdState: string }, cmd: Command) => {
      const { render } = await import('./commands/render.js');
      await run(cmd, (g) => {
        if (opts.etcdState !== 'new' && opts.etcdState !== 'existing') throw new UsageError('--etcd-state must be new or existing');
        return render(g, { out: opts.out, etcdState: opts.etcdState });
      });
    });
  program
    .command('status')
    .description('the cluster at a glance: Patroni roles, lag, etcd, HAProxy routing, containers; exit 0 healthy, 3 degraded, 4 down')
    .option('-w, --watch [seconds]', 'redraw every few seconds until Ctrl-C (default 2)')
    .action(async (opts: { watch?: string | boolean }, cmd: Command) => {
      const { status } = await import('./commands/status.js');
      await run(cmd, (g) => {
        const watch = opts.watch === undefined ? undefined : opts.watch === true ? 2 : Number(opts.watch);
        if (watch !== undefined && !(watch > 0)) throw new UsageError('--watch takes a number of seconds > 0');
        return status(g, watch);
      });
    });
  program
    .command('bootstrap')
    .description('from bare nodes to a healthy cluster: preflight, firewall, upload, images, etcd, Patroni, HAProxy, database, services; re-runs converge')
    .option('--dry-run', 'print the plan (phases × nodes, firewall rules, files) and contact no node')
    .option('--no-firewall', 'leave the nodes\' firewall alone')
    .option('--ship-images', 'send images from this machine\'s Docker over SSH (docker save | docker load) instead of pulling')
    .option('--lock-wait <seconds>', 'wait this long for a held lock', '0')
    .action(async (opts: { dryRun?: boolean; firewall: boolean; shipImages?: boolean; lockWait: string }, cmd: Command) => {
      const { bootstrap } = await import('./commands/bootstrap.js');
      await run(cmd, (g) => {
        const wait = Number(opts.lockWait);
        if (!(wait >= 0)) throw new UsageError('--lock-wait takes a number of seconds');
        return bootstrap(g, { dryRun: Boolean(opts.dryRun), firewall: opts.firewall, shipImages: Boolean(opts.shipImages), lockWaitSec: wait });
      });
    });
  program
    .command('logs')
    .description("a service's container logs from every node that runs it, each line prefixed with its node")
    .argument('<service>', 'e.g. patroni, etcd, haproxy, backend, kong')
    .option('-f, --follow', 'follow all nodes at once until Ctrl-C')
    .option('-n, --lines <n>', 'last lines per node', '100')
    .option('--since <when>', 'only since then (e.g. 10m, 2h, 2026-11-25T10:00:00)')
    .option('--grep <regex>', 'only lines matching')
    .action(async (service: string, opts: { follow?: boolean; lines: string; since?: string; grep?: string }, cmd: Command) => {
      const { logs } = await import('./commands/logs.js');
      await run(cmd, (g) => {
        const lines = Number(opts.lines);
        if (!Number.isInteger(lines) || lines < 0) throw new UsageError('--lines takes a whole number');
        return logs(g, service, { lines, since: opts.since, follow: Boolean(opts.follow), grep: opts.grep });
      });
    });
  program
    .command('exec')
    .description('run a command on a node (attached to this terminal), on the leader, or on all nodes; exit code passed through')
    .argument('[node]', 'the node to run on (or --leader / --all)')
    .argument('[command...]', 'after --: the command and its arguments')
    .option('--leader', "on the Patroni leader's node")
    .option('--all', 'on every node (--nodes filters), output prefixed per node')
    .option('--in <service>', "inside the service's container (docker exec), e.g. patroni, etcd")
    .action(async (node: string | undefined, command: string[], opts: { leader?: boolean; all?: boolean; in?: string }, cmd: Command) => {
      const { execCommand } = await import('./commands/exec.js');
      await run(cmd, (g) => {
        // with --leader/--all the first word after -- is the command, not a node
        const argv = opts.leader || opts.all ? [...(node !== undefined ? [node] : []), ...command] : command;
        return execCommand(g, argv, { node: opts.leader || opts.all ? undefined : node, leader: Boolean(opts.leader), all: Boolean(opts.all), in: opts.in });
      });
    });
  program
    .command('audit')
    .description('the audit log of every node (bootstrap, lock, switchover …), merged by time')
    .option('-n, --lines <n>', 'the last lines', '50')
    .action(async (opts: { lines: string }, cmd: Command) => {
      const { audit } = await import('./commands/audit.js');
      await run(cmd, (g) => {
        const lines = Number(opts.lines);
        if (!Number.isInteger(lines) || lines <= 0) throw new UsageError('--lines takes a whole number > 0');
        return audit(g, lines);
      });
    });
  program
    .command('switchover')
    .description('a planned leader change through Patroni, measured: waits until every HAProxy routes to the new leader, prints the write outage')
    .option('--to <node>', 'the replica to hand over to (default: Patroni picks a healthy one)')
    .option('--lock-wait <seconds>', 'wait this long for a held lock', '0')
    .action(async (opts: { to?: string; lockWait: string }, cmd: Command) => {
      const { switchover } = await import('./commands/switchover.js');
      await run(cmd, (g) => {
        const wait = Number(opts.lockWait);
        if (!(wait >= 0)) throw new UsageError('--lock-wait takes a number of seconds');
        return switchover(g, opts.to, wait);
      });
    });
  program
    .command('failover-test')
    .description('a measured drill: break the leader on purpose, measure write/read outage and lost writes, restore; exit 0 passed, 1 failed')
    .option('-s, --scenario <name>', 'kill-leader | stop-leader | switchover | node-down | partition | replica-loss', 'kill-leader')
    .option('--runs <n>', 'repeat and report the median', '1')
    .option('--max-outage <seconds>', 'fail above this write outage (default: the scenario\'s goal)')
    .option('--timeout <seconds>', 'hard limit per run; what was broken is restored', '400')
    .option('--lock-wait <seconds>', 'wait this long for a held lock', '0')
    .action(async (opts: { scenario: string; runs: string; maxOutage?: string; timeout: string; lockWait: string }, cmd: Command) => {
      const { failoverTest } = await import('./commands/failover-test.js');
      const { SCENARIOS } = await import('../failover/scenarios.js');
      await run(cmd, (g) => {
        if (!(SCENARIOS as readonly string[]).includes(opts.scenario)) throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}`);
        const runs = Number(opts.runs);
        if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs takes a whole number ≥ 1');
        const max = opts.maxOutage === undefined ? undefined : Number(opts.maxOutage);
        if (max !== undefined && !(max >= 0)) throw new UsageError('--max-outage takes a number of seconds');
        const timeout = Number(opts.timeout);
        const wait = Number(opts.lockWait);
        if (!(timeout > 0) || !(wait >= 0)) throw new UsageError('--timeout and --lock-wait take seconds');
        return failoverTest(g, { scenario: opts.scenario as never, runs, maxOutageSeconds: max, timeoutSec: timeout, lockWaitSec: wait });
      });
    });
  const lockCmd = program.command('lock').description("the environment's lock: bootstrap and deploy hold it while they run");
  for (const action of ['status', 'acquire', 'release'] as const) {
    const sub = lockCmd.command(action).description(
      { status: 'who holds the lock, since when', acquire: 'take the lock (keeps bootstrap/deploy out)', release: 'release the lock, whoever holds it' }[action],
    );
    if (action === 'acquire') sub.option('-m, --message <text>', 'why (shown to whoever is kept out)').option('--lock-wait <seconds>', 'wait this long for a held lock', '0');
    sub.action(async (opts: { message?: string; lockWait?: string }, cmd: Command) => {
      const { lock } = await import('./commands/lock.js');
      await run(cmd, (g) => {
        const wait = Number(opts.lockWait ?? 0);
        if (!(wait >= 0)) throw new UsageError('--lock-wait takes a number of seconds');
        return lock(g, action, opts.message, wait);
      });
    });
  }
  const secrets = program.command('secrets').description('the secrets of an environment\'s env file');
  secrets
    .command('init')
    .description('generate every missing secret (passwords, JWT_SECRET, ANON/SERVICE_ROLE keys, pgsodium/vault keys) into the env file, 0600')
    .option('--rotate <key...>', 'replace these existing secrets too (asks unless --yes)')
    .action(async (opts: { rotate?: string[] }, cmd: Command) => {
      const { secretsInit } = await import('./commands/secrets.js');
      await run(cmd, (g) => secretsInit(g, opts.rotate ?? []));
    });
  program
    .command('deploy')
    .description('render, compare with what each node runs, change only that: reloads, recreates node by node, Patroni restarts with a switchover; a failing node is rolled back')
    .option('--dry-run', 'the plan per node and a diff of the files (secrets redacted); nothing changed')
    .option('--roles <roles>', 'only nodes with one of these roles (comma-separated)')
    .option('--lock-wait <seconds>', 'wait this long for a held lock', '0')
    .action(async (opts: { dryRun?: boolean; roles?: string; lockWait: string }, cmd: Command) => {
      const { deploy } = await import('./commands/deploy.js');
      await run(cmd, (g) => {
        const wait = Number(opts.lockWait);
        if (!(wait >= 0)) throw new UsageError('--lock-wait takes a number of seconds');
        return deploy(g, { dryRun: Boolean(opts.dryRun), lockWaitSec: wait, roles: opts.roles });
      });
    });
  program
    .command('releases')
    .description('the releases each node keeps, and which one is live')
    .action(async (_opts, cmd: Command) => {
      const { releases } = await import('./commands/deploy.js');
      await run(cmd, (g) => releases(g));
    });
  program
    .command('rollback')
    .description('make the previous release (or --to RELEASE) live again, the way deploy does')
    .option('--to <release>', 'the release id (twincigo releases lists them)')
    .option('--dry-run', 'the plan and what would change; nothing changed')
    .option('--roles <roles>', 'only nodes with one of these roles (comma-separated)')
    .option('--lock-wait <seconds>', 'wait this long for a held lock', '0')
    .action(async (opts: { to?: string; dryRun?: boolean; roles?: string; lockWait: string }, cmd: Command) => {
      const { rollback } = await import('./commands/deploy.js');
      await run(cmd, (g) => {
        const wait = Number(opts.lockWait);
        if (!(wait >= 0)) throw new UsageError('--lock-wait takes a number of seconds');
        return rollback(g, { to: opts.to, dryRun: Boolean(opts.dryRun), lockWaitSec: wait, roles: opts.roles });
      });
    });
  const migrate = program
    .command('migrate')
    .description('versioned SQL migrations (migrations/NNNN_name.sql) applied through the leader over an SSH tunnel')
    .option('--dir <path>', 'the migrations folder (default: migrations.dir in twincigo.yml, else migrations/ beside it)');
  migrate
    .command('status')
    .description('applied, pending and changed-since-applied migrations; exit 1 when an applied file was changed')
    .action(async (_opts, cmd: Command) => {
      const { migrateStatus } = await import('./commands/migrate.js');
      await run(cmd, (g) => migrateStatus(g, migrationsDir(cmd)));
    });
  migrate
    .command('up')
    .description('apply pending migrations in order, each in its own transaction with its tracking row; exit 1 on failure (rolled back)')
    .option('--to <version>', 'stop after this version')
    .option('--dry-run', 'show what would be applied; change nothing')
    .option('--lock-wait <seconds>', 'wait this long for another operator\'s migration lock', '0')
    .option('--lock-timeout <duration>', 'PostgreSQL lock_timeout per migration (default from twincigo.yml, else 5s)')
    .option('--statement-timeout <duration>', 'PostgreSQL statement_timeout per migration (default from twincigo.yml, else 15min)')
    .action(async (opts: { to?: string; dryRun?: boolean; lockWait: string; lockTimeout?: string; statementTimeout?: string }, cmd: Command) => {
      const { migrateUp } = await import('./commands/migrate.js');
      await run(cmd, (g) => {
        const wait = Number(opts.lockWait);
        if (!(wait >= 0)) throw new UsageError('--lock-wait takes a number of seconds');
        return migrateUp(g, migrationsDir(cmd), { to: opts.to, dryRun: Boolean(opts.dryRun), lockWait: wait, lockTimeout: opts.lockTimeout, statementTimeout: opts.statementTimeout });
      });
    });
  migrate
    .command('create')
    .description('write the next numbered migration file (no database involved)')
    .argument('<name>', 'what it does, e.g. add_contacts_table')
    .option('--no-transaction', 'mark it to run outside a transaction (CREATE INDEX CONCURRENTLY)')
    .action(async (name: string, opts: { transaction: boolean }, cmd: Command) => {
      const { migrateCreate } = await import('./commands/migrate.js');
      await run(cmd, async (g) => migrateCreate(g, migrationsDir(cmd), name, !opts.transaction));
    });
  const envCmd = program.command('env').description('the env files');
  envCmd
    .command('check')
    .description('list missing, placeholder, weak and invalid values (e.g. an ANON_KEY not signed with JWT_SECRET); exit 0 or 2')
    .action(async (_opts, cmd: Command) => {
      const { envCheck } = await import('./commands/secrets.js');
      await run(cmd, (g) => envCheck(g));
    });
  program
    .command('init')
    .description('write twincigo.yml (or add an environment to it) and its env file with generated secrets; asks on a TTY')
    .option('--profile <profile>', 'dev or prod (default: prod for an environment named prod, else dev)')
    .option('--node <name=host>', 'a node, in order (the first is the initial leader); repeat for each', collect, [])
    .option('--private-address <name=ip>', 'the IPv4 address the other nodes reach a node at (needed when its host is a name)', collect, [])
    .option('--role <name=roles>', 'a node\'s roles, comma-separated (default: the design\'s three-node shape)', collect, [])
    .action(async (opts: { profile?: string; node: string[]; privateAddress: string[]; role: string[] }, cmd: Command) => {
      const { init } = await import('./commands/init.js');
      await run(cmd, (g) => init(g, { profile: opts.profile, node: opts.node, privateAddress: opts.privateAddress, roles: opts.role }));
    });
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .argument('<shell>', 'bash | zsh | fish')
    .action(async (shell: string) => {
      const { completionScript } = await import('./completion.js');
      process.stdout.write(completionScript(program, shell));
    });
  const all = everyCommand(program);
  for (const cmd of all) cmd.exitOverride();
  addHelpTexts(program, all);
  return program;
}

const collect = (v: string, all: string[]) => [...all, v];

const everyCommand = (c: Command): Command[] => [c, ...c.commands.flatMap(everyCommand)];

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** `migrate --dir`, given before or after the subcommand. */
function migrationsDir(cmd: Command): string | undefined {
  return (cmd.optsWithGlobals() as { dir?: string }).dir;
}

function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals();
  return {
    env: o.env ?? process.env.TWINCIGO_ENV,
    config: o.config,
    nodes: o.nodes,
    json: Boolean(o.json),
    yes: Boolean(o.yes),
    verbose: Boolean(o.verbose),
    quiet: Boolean(o.quiet),
    color: o.color !== false && !process.env.NO_COLOR,
    acceptNewHostKeys: Boolean(o.acceptNewHostKeys),
  };
}

let currentJson = false;

async function run(cmd: Command, action: (g: GlobalOptions) => Promise<number | void>): Promise<void> {
  const g = globals(cmd);
  currentJson = g.json;
  if (!g.color) process.env.NO_COLOR = '1';
  const { guardStream } = await import('../output/redact.js');
  guardStream(process.stdout);
  guardStream(process.stderr);
  const code = await action(g);
  process.exitCode = code ?? EXIT.ok;
}

function report(err: unknown, argv: string[]): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    // help shown because something was missing (bare `twincigo`, `config` without …) is a usage error
    if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ ok: false, exitCode: EXIT.usage, error: err.message.replace(/^error: /, ''), hints: [] }, null, 2)}\n`);
    return EXIT.usage;
  }
  const exitCode = err instanceof TwincigoError ? err.exitCode : EXIT.failed;
  const message = err instanceof Error ? err.message : String(err);
  const hints = err instanceof TwincigoError ? err.hints : [];
  process.stderr.write(`error: ${message}\n${hints.map((h) => `  hint: ${h}\n`).join('')}`);
  if (!(err instanceof TwincigoError) && err instanceof Error && process.env.TWINCIGO_DEBUG) process.stderr.write(`${err.stack}\n`);
  if (currentJson || argv.includes('--json')) process.stdout.write(`${JSON.stringify({ ok: false, exitCode, error: message, hints }, null, 2)}\n`);
  return exitCode;
}

/**
 * What commander does not say well: a bare `twincigo` (help on stderr, exit 2), `help <typo>` and
 * `config chek` (a subcommand typo reads as "too many arguments"): refused with a suggestion.
 */
function precheck(program: Command, argv: string[]): void {
  const args = argv.slice(2);
  if (args.length === 0) {
    process.stderr.write(program.helpInformation());
    throw new UsageError('a command is needed', ['twincigo --help lists them; twincigo <command> --help shows examples']);
  }
  const words = args.filter((a) => !a.startsWith('-'));
  const find = (parent: Command, name: string) => parent.commands.find((c) => c.name() === name || c.aliases().includes(name));
  const unknown = (parent: Command, name: string, prefix: string) => {
    const near = didYouMean(name, parent.commands.map((c) => c.name()));
    return new UsageError(`unknown command '${prefix}${name}'`, [near ? `did you mean: twincigo ${prefix}${near}?` : `twincigo ${prefix}--help lists the commands`]);
  };
  if (args[0] === 'help') {
    let at: Command = program;
    for (const w of words.slice(1)) {
      const next = find(at, w);
      if (!next) {
        process.stderr.write(at.helpInformation());
        throw unknown(at, w, words.slice(1, words.indexOf(w)).map((x) => `${x} `).join(''));
      }
      at = next;
    }
    return;
  }
  // `config chek`: a command with subcommands whose own action takes no argument, the typo right after it
  const first = args[0] !== undefined ? find(program, args[0]) : undefined;
  const second = args[1];
  if (first && first.commands.length > 0 && first.registeredArguments.length === 0 && second !== undefined && !second.startsWith('-') && !find(first, second)) {
    throw unknown(first, second, `${first.name()} `);
  }
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    precheck(program, argv);
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = report(err, argv);
    // interrupted: exit now, without waiting for connections still being opened or closed
    if (process.exitCode === EXIT.interrupted) process.exit(EXIT.interrupted);
  }
}
