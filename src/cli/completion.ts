import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { commandPath } from './help.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Entry {
  path: string;
  subcommands: string[];
  options: string[];
}

/** Every command path with its subcommands and long options (global ones included), from the program itself. */
function entries(program: Command): Entry[] {
  const globals = program.options.map((o) => o.long).filter((l): l is string => Boolean(l));
  const out: Entry[] = [];
  const walk = (c: Command) => {
    const own = c.options.map((o) => o.long).filter((l): l is string => Boolean(l));
    out.push({ path: commandPath(c), subcommands: c.commands.map((x) => x.name()).filter((n) => !n.startsWith('__')), options: [...new Set([...own, ...globals, '--help'])] });
    c.commands.forEach(walk);
  };
  walk(program);
  return out;
}

const words = (e: Entry) => [...e.subcommands, ...e.options].join(' ');

function bash(program: Command): string {
  const cases = entries(program).map((e) => `    ${JSON.stringify(e.path)}) echo ${JSON.stringify(words(e))} ;;`);
  return [
    '# twincigo completion for bash: source it, or put it in /etc/bash_completion.d/twincigo',
    '_twincigo_words() {',
    '  case "$1" in',
    ...cases,
    '  esac',
    '}',
    '_twincigo() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" path="" w',
    '  for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do',
    '    case "$w" in -*) continue ;; esac',
    '    case " $(_twincigo_words "$path") " in *" $w "*) path="${path:+$path }$w" ;; esac',
    '  done',
    '  COMPREPLY=($(compgen -W "$(_twincigo_words "$path")" -- "$cur"))',
    '}',
    'complete -o default -F _twincigo twincigo',
    '',
  ].join('\n');
}

function zsh(program: Command): string {
  return ['#compdef twincigo', '# twincigo completion for zsh (through bash completion)', 'autoload -U +X bashcompinit && bashcompinit', bash(program)].join('\n');
}

function fish(program: Command): string {
  const lines = ['# twincigo completion for fish: put it in ~/.config/fish/completions/twincigo.fish', 'complete -c twincigo -f'];
  for (const e of entries(program)) {
    const parts = e.path === '' ? [] : e.path.split(' ');
    const cond = parts.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${parts.at(-1)}`;
    if (e.subcommands.length > 0) lines.push(`complete -c twincigo -n '${cond}' -a '${e.subcommands.join(' ')}'`);
    for (const o of e.options) lines.push(`complete -c twincigo -n '${cond}' -l ${o.replace(/^--/, '')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `twincigo completion bash|zsh|fish`: the script, on stdout. */
export function completionScript(program: Command, shell: string): string {
  if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`completion: unknown shell "${shell}"`, [`one of ${SHELLS.join(', ')}`]);
  return { bash, zsh, fish }[shell as Shell](program);
}
