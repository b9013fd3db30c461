import { statSync } from 'node:fs';
import { ConfigError, UsageError } from '../errors.js';
import { looseModeMessage, readEnvFile, secretValues, type EnvValues } from '../config/env-file.js';
import { resolveTarget } from '../ssh/target.js';
import { readInventory, resolveEnvironment, resolveMigrations, type Inventory } from '../config/load.js';
import { selectNodes } from '../config/select.js';
import type { Config } from '../config/model.js';
import { redactor } from '../output/redact.js';
import { Ui } from '../output/ui.js';
import type { RenderMode } from '../engine/types.js';

export interface GlobalOptions {
  env?: string | undefined;
  config: string;
  nodes?: string | undefined;
  json: boolean;
  yes: boolean;
  verbose: boolean;
  quiet: boolean;
  color: boolean;
  acceptNewHostKeys: boolean;
}

export interface Context {
  ui: Ui;
  options: GlobalOptions;
  inventory: Inventory;
  config: Config;
  env: EnvValues;
  renderMode: RenderMode;
}

export function makeUi(g: GlobalOptions): Ui {
  return new Ui({ json: g.json, yes: g.yes, verbose: g.verbose, quiet: g.quiet, color: g.color });
}

/** Which environment: --env, else TWINCIGO_ENV, else asked on a TTY; never guessed. */
export async function chooseEnvironment(ui: Ui, inv: Inventory, given: string | undefined): Promise<string> {
  if (given) return given;
  const names = Object.keys(inv.spec.environments);
  return ui.select('which environment?', names, `--env <${names.join('|')}>`);
}

/** Loads and validates config and env once, and registers every secret with the redactor. */
export async function createContext(g: GlobalOptions): Promise<Context> {
  const ui = makeUi(g);
  const inventory = readInventory(g.config);
  const envName = await chooseEnvironment(ui, inventory, g.env);
  const environment = resolveEnvironment(inventory, envName);
  const config: Config = {
    file: inventory.file,
    dir: inventory.dir,
    environments: Object.keys(inventory.spec.environments),
    env: environment,
    nodes: selectNodes(environment, g.nodes),
    migrations: resolveMigrations(inventory),
  };
  const env = readEnvFile(environment.envFile);
  redactor.add(secretValues(env));
  if (env.problems.length > 0) throw new ConfigError(environment.envFile, env.problems);
  for (const m of looseFiles(config, env)) {
    if (environment.profile === 'prod') throw new UsageError(m, ['a prod secret readable by others is refused, as OpenSSH refuses an unprotected key']);
    ui.warn(m);
  }
  return { ui, options: g, inventory, config, env, renderMode: renderMode(g, ui) };
}

/** The env file and the SSH identity files, when group or others can read them. */
export function looseFiles(config: Config, env: EnvValues): string[] {
  const out: string[] = [];
  if (env.looseMode !== undefined) out.push(looseModeMessage(env.file, env.looseMode));
  const ids = new Set(config.nodes.flatMap((n) => resolveTarget(n.name, n.host, n.ssh, config.dir).identityFiles));
  for (const id of ids) {
    try {
      const mode = statSync(id).mode & 0o777;
      if (mode & 0o077) out.push(looseModeMessage(id, mode));
    } catch {
      /* a missing identity file is the SSH layer's error, with its own hint */
    }
  }
  return out;
}

export function renderMode(g: GlobalOptions, ui: Ui): RenderMode {
  if (g.quiet) return 'silent';
  if (g.json || !ui.isTTY) return 'plain';
  return 'tty';
}

export function requireEnvFile(ctx: Context): void {
  if (!ctx.env.exists) {
    throw new UsageError(`env file not found: ${ctx.env.file}`, [
      `copy env/.env.${ctx.config.env.name === 'prod' ? 'prod' : 'dev'}.example to ${ctx.env.file} and fill in the values`,
    ]);
  }
}
