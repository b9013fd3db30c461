import type { Command } from 'commander';
import type { CommandDef } from './define.js';
import { addCommandHelp } from './help.js';
import { runAction } from './action.js';

const collect = (v: string, all: string[]) => [...all, v];

/** Adds a command definition (and its subcommands) to commander, wiring its run through runAction. */
export function register(parent: Command, def: CommandDef): Command {
  const cmd = parent.command(def.name).description(def.description);
  for (const [name, description] of def.args ?? []) cmd.argument(name, description);
  for (const o of def.options ?? []) {
    if (o.repeat) cmd.option(o.flags, o.description, collect, (o.default as string[] | undefined) ?? []);
    else if (o.default !== undefined) cmd.option(o.flags, o.description, o.default as string | boolean);
    else cmd.option(o.flags, o.description);
  }
  const run = def.run;
  if (run) {
    cmd.action(async (...params: unknown[]) => {
      // commander passes the arguments, then the options, then the command itself
      const self = params.at(-1) as Command;
      const opts = params.at(-2);
      const args = params.slice(0, -2) as string[];
      await runAction(self, (g) => run(g, args, opts, self));
    });
  }
  addCommandHelp(cmd, def);
  for (const sub of def.subcommands ?? []) register(cmd, sub);
  return cmd;
}
