import type { EnvValues } from '../config/env-file.js';
import type { Inventory } from '../config/load.js';
import type { Config, EnvironmentConfig } from '../config/model.js';
import type { RenderMode } from '../engine/types.js';
import { UsageError } from '../errors.js';
import { Ui, type UiOptions } from '../output/ui.js';

/** The global flags, as every command receives them. */
export interface GlobalOptions extends UiOptions {
  env?: string | undefined;
  config: string;
  nodes?: string | undefined;
  acceptNewHostKeys: boolean;
}

/**
 * One command's view of the world, validated once: how to talk to the operator, the flags, the
 * inventory, the selected environment (`config.env`) and its env-file values. The CLI opens it
 * (src/cli/open-session.ts); everything below receives it.
 */
export interface Session {
  ui: Ui;
  options: GlobalOptions;
  inventory: Inventory;
  config: Config;
  /** The environment's env-file values (shared.env under the env file). */
  values: EnvValues;
  renderMode: RenderMode;
}

export const isProd = (env: Pick<EnvironmentConfig, 'profile' | 'name'>): boolean => env.profile === 'prod' || env.name === 'prod';

/** The prod guard: on prod the operator types the environment's name (--yes skips it, for CI). */
export async function guardProd(s: Pick<Session, 'ui' | 'config'>, question: string): Promise<void> {
  if (isProd(s.config.env)) await s.ui.typeToConfirm(question, s.config.env.name);
}

export function requireEnvFile(s: Pick<Session, 'values' | 'config'>): void {
  if (!s.values.exists) {
    throw new UsageError(`env file not found: ${s.values.file}`, [
      `copy env/.env.${s.config.env.name === 'prod' ? 'prod' : 'dev'}.example to ${s.values.file} and fill in the values`,
    ]);
  }
}

export function makeUi(g: GlobalOptions): Ui {
  return new Ui(g);
}

export function renderMode(g: GlobalOptions, ui: Ui): RenderMode {
  if (g.quiet) return 'silent';
  if (g.json || !ui.isTTY) return 'plain';
  return 'tty';
}
