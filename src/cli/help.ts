import type { Command } from 'commander';

/** The exit codes every command uses (the README's table). */
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

interface Help {
  examples: string[];
  /** Exit codes beyond 0/2/130, which every command has. */
  exits?: string[];
}

/** Examples (2–4) and the exit codes of each command, shown after its --help. */
const HELP: Record<string, Help> = {
  config: { examples: ['twincigo config --env dev', 'twincigo config --env prod --json | jq .nodes'] },
  'config check': { examples: ['twincigo config check', 'twincigo config check --env prod   # the gate CI runs on every push'] },
  render: { examples: ['twincigo render --env dev | less', 'twincigo render --env dev --out .twincigo/render   # gitignored; secret files 0600'], exits: ['1'] },
  status: { examples: ['twincigo status --env dev', 'twincigo status --env prod --json | jq .warnings', 'twincigo status --env dev --watch 5'], exits: ['1', '3', '4'] },
  bootstrap: { examples: ['twincigo bootstrap --env dev --dry-run', 'twincigo bootstrap --env dev', 'twincigo bootstrap --env prod --yes --json   # CI'], exits: ['1', '3', '4'] },
  logs: { examples: ['twincigo logs patroni --env dev --lines 50', 'twincigo logs haproxy --env dev -f', 'twincigo logs backend --env dev --since 10m --grep ERROR'], exits: ['1'] },
  exec: { examples: ['twincigo exec ubuntu-8gb-ash-1 --env dev -- df -h', 'twincigo exec --leader --in patroni --env dev -- patronictl -c /etc/patroni/patroni.yml list', 'twincigo exec --all --env dev -- uptime'], exits: ['1', '*'] },
  audit: { examples: ['twincigo audit --env dev', 'twincigo audit --env prod --lines 200'], exits: ['1'] },
  switchover: { examples: ['twincigo switchover --env dev', 'twincigo switchover --env dev --to ubuntu-8gb-ash-1'], exits: ['1'] },
  'failover-test': { examples: ['twincigo failover-test --env dev', 'twincigo failover-test --env dev --scenario partition --runs 3', 'twincigo failover-test --env dev --json --max-outage 30   # scheduled CI'], exits: ['1'] },
  'lock status': { examples: ['twincigo lock status --env prod'], exits: ['1'] },
  'lock acquire': { examples: ['twincigo lock acquire --env prod -m "restoring a backup"', 'twincigo lock acquire --env prod --lock-wait 300'], exits: ['1'] },
  'lock release': { examples: ['twincigo lock release --env prod'], exits: ['1'] },
  'secrets init': { examples: ['twincigo secrets init --env dev', 'twincigo secrets init --env dev --rotate JWT_SECRET', 'twincigo secrets init --env prod --rotate REDIS_PASSWORD --yes   # CI'] },
  deploy: { examples: ['twincigo deploy --env dev --dry-run', 'twincigo deploy --env dev', 'twincigo deploy --env prod --roles haproxy --yes'], exits: ['1'] },
  releases: { examples: ['twincigo releases --env dev', 'twincigo releases --env dev --json'], exits: ['1'] },
  rollback: { examples: ['twincigo rollback --env dev --dry-run', 'twincigo rollback --env dev --to 20261130-101500'], exits: ['1'] },
  'migrate status': { examples: ['twincigo migrate status --env dev', 'twincigo migrate status --env prod --json'], exits: ['1'] },
  'migrate up': { examples: ['twincigo migrate up --env dev --dry-run', 'twincigo migrate up --env dev', 'twincigo migrate up --env prod --to 0004 --yes'], exits: ['1'] },
  'migrate create': { examples: ['twincigo migrate create add_contacts_table', 'twincigo migrate create index_contacts_email --no-transaction'] },
  'env check': { examples: ['twincigo env check --env dev', 'twincigo env check --env prod --json'] },
  init: { examples: ['twincigo init', 'twincigo init --env dev --node hil-1=5.78.103.224 --node ash-1=5.161.110.205 --node ash-2=178.156.186.10 --yes'] },
  completion: { examples: ['twincigo completion bash > /etc/bash_completion.d/twincigo', 'twincigo completion zsh > "${fpath[1]}/_twincigo"', 'twincigo completion fish > ~/.config/fish/completions/twincigo.fish'] },
};

export const commandPath = (c: Command): string => {
  const names: string[] = [];
  for (let x: Command | null = c; x?.parent; x = x.parent) names.unshift(x.name());
  return names.join(' ');
};

/** Adds the examples and exit codes after each command's help, and the exit-code table after the program's. */
export function addHelpTexts(program: Command, all: Command[]): void {
  program.addHelpText('after', `\nExit codes:\n${table(EXIT_CODES.filter(([c]) => c !== '*'))}\n\nRun twincigo <command> --help for a command's examples.`);
  for (const c of all) {
    const h = HELP[commandPath(c)];
    if (!h) continue;
    const codes = ['0', ...(h.exits ?? []), '2', '130'].sort((a, b) => (a === '*' ? 1 : b === '*' ? -1 : Number(a) - Number(b)));
    const exits = codes.map((code) => EXIT_CODES.find(([c2]) => c2 === code) ?? ([code, ''] as const));
    c.addHelpText('after', `\nExamples:\n${h.examples.map((e) => `  $ ${e}`).join('\n')}\n\nExit codes:\n${table(exits)}`);
  }
}

export const helpEntries = (): string[] => Object.keys(HELP);
