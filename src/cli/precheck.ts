import type { Command } from 'commander';
import { didYouMean } from '../config/env-parse.js';
import { UsageError } from '../errors.js';

/**
 * What commander does not say well: a bare `twincigo` (help on stderr, exit 2), `help <typo>` and
 * `config chek` (a subcommand typo reads as "too many arguments"): refused with a suggestion.
 */
export function precheck(program: Command, argv: string[]): void {
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

