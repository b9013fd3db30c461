import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { EXIT } from '../errors.js';
import { COMMANDS } from './commands/index.js';
import { addProgramHelp } from './help.js';
import { precheck } from './precheck.js';
import { register } from './register.js';
import { report } from './action.js';

/**
 * The CLI: the global options, and every command registered from its own definition
 * (src/cli/commands). Everything heavy (config, SSH, listr2, prompts) is imported lazily inside
 * the commands' run functions so that --help starts fast.
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
  for (const def of COMMANDS) register(program, def);
  const every = (c: Command): Command[] => [c, ...c.commands.flatMap(every)];
  for (const cmd of every(program)) cmd.exitOverride();
  addProgramHelp(program);
  return program;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<void> {
  // `twincigo … | head`: a reader that went away is not an error
  for (const stream of [process.stdout, process.stderr]) stream.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(process.exitCode ?? 0) : undefined));
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
