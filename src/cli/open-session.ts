import { ConfigError, UsageError } from '../errors.js';
import type { GlobalOptions, Session } from '../session/session.js';
import { readEnvFile, secretValues } from '../config/env-file.js';
import { configFor, readInventory, type Inventory } from '../config/load.js';
import { redactor } from '../output/redact.js';
import type { Ui } from '../output/ui.js';
import { looseFiles } from '../session/permissions.js';
import { makeUi, renderMode } from '../session/session.js';

export type { GlobalOptions, Session } from '../session/session.js';

/** Which environment: --env, else TWINCIGO_ENV, else asked on a TTY; never guessed. */
export async function chooseEnvironment(ui: Ui, inv: Inventory, given: string | undefined): Promise<string> {
  if (given) return given;
  const names = Object.keys(inv.spec.environments);
  return ui.select('which environment?', names, `--env <${names.join('|')}>`);
}

/** Loads and validates config and env once, and registers every secret with the redactor. */
export async function openSession(g: GlobalOptions): Promise<Session> {
  const ui = makeUi(g);
  const inventory = readInventory(g.config);
  const envName = await chooseEnvironment(ui, inventory, g.env);
  const config = configFor(inventory, envName, g.nodes);
  const environment = config.env;
  const env = readEnvFile(environment.envFile);
  redactor.add(secretValues(env));
  if (env.problems.length > 0) throw new ConfigError(environment.envFile, env.problems);
  for (const m of looseFiles(config, env)) {
    if (environment.profile === 'prod') throw new UsageError(m, ['a prod secret readable by others is refused, as OpenSSH refuses an unprotected key']);
    ui.warn(m);
  }
  return { ui, options: g, inventory, config, values: env, renderMode: renderMode(g, ui) };
}

