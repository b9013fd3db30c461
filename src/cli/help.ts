import type { Command } from 'commander';
import type { CommandDef } from './define.js';

/** The exit codes every command uses (docs/exit-codes.md). */
export const EXIT_CODES = [
  ['0', 'success (status: healthy)'],
  ['1', 'the operation failed, or the nodes could not be judged from here (SSH key, host key, login)'],
  ['2', 'usage or configuration: a bad flag, inventory or env file — nothing was changed'],
  ['3', 'status: the cluster is degraded (a leader, but something is wrong)'],
  ['4', 'status: the cluster is down (no leader)'],
  ['130', 'interrupted (Ctrl-C); cleanups ran'],
  ['*', "exec: the remote command's own exit code"],
] as const;

const table = (rows: ReadonlyArray<readonly [string, string]>) => rows.map(([c, d]) => `  ${c.padEnd(4)}${d}`).join('\n');

export const commandPath = (c: Command): string => {
  const names: string[] = [];
  for (let x: Command | null = c; x?.parent; x = x.parent) names.unshift(x.name());
  return names.join(' ');
};

/** The exit-code table after the program's help. */
export function addProgramHelp(program: Command): void {
  program.addHelpText('after', `\nExit codes:\n${table(EXIT_CODES.filter(([c]) => c !== '*'))}\n\nRun twincigo <command> --help for a command's examples.`);
}

/** A command's examples and its exit codes (0, 2 and 130 always; the rest from its definition), after its help. */
export function addCommandHelp(cmd: Command, def: CommandDef): void {
  if (!def.examples || def.examples.length === 0) return;
  const codes = ['0', ...(def.exits ?? []), '2', '130'].sort((a, b) => (a === '*' ? 1 : b === '*' ? -1 : Number(a) - Number(b)));
  const exits = codes.map((code) => EXIT_CODES.find(([c]) => c === code) ?? ([code, ''] as const));
  cmd.addHelpText('after', `\nExamples:\n${def.examples.map((e) => `  $ ${e}`).join('\n')}\n\nExit codes:\n${table(exits)}`);
}
