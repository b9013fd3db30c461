import { quote } from '../remote/shell.js';

/**
 * How a service's secret settings reach it under Swarm: never in the stack file or the service's
 * spec (anyone who can `docker service inspect` reads those), but in a Swarm secret mounted at
 * SECRET_TARGET. Images with a shell get an entrypoint that exports the file's variables and execs
 * the image's own command; PostgREST (no shell in its image) reads its config file, given as its
 * only argument.
 */
export const SECRET_TARGET = '/run/secrets/twincigo.env';
export const POSTGREST_CONFIG = '/run/secrets/postgrest.conf';

/** `KEY='value'` lines a POSIX shell sources (`set -a; . file`). */
export const envFileText = (vars: ReadonlyArray<[string, string]>) => `${vars.map(([k, v]) => `${k}=${quote(v)}`).join('\n')}\n`;

/** The entrypoint that loads the secret file; the image's command follows as arguments ($$: stack deploy reads `$` twice). */
export const SHIM = ['/bin/sh', '-c', `set -a; . ${SECRET_TARGET}; set +a; exec "$$@"`, 'twincigo-env'];

/** A health check test that needs a secret: the file sourced first, the variables expanded by the shell. */
export function shellTest(argv: readonly string[]): string[] {
  const words = argv.map((a) => (a.includes('${') ? `"${a.replace(/["\\`]/g, '\\$&').replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, '$$$${$1}')}"` : quote(a)));
  return ['CMD-SHELL', `set -a; . ${SECRET_TARGET}; set +a; ${words.join(' ')}`];
}

/** PGRST_DB_URI → db-uri, PGRST_APP_SETTINGS_JWT_SECRET → app.settings.jwt_secret (PostgREST's config file names). */
export function postgrestKey(env: string): string {
  const k = env.replace(/^PGRST_/, '');
  if (k.startsWith('APP_SETTINGS_')) return `app.settings.${k.slice('APP_SETTINGS_'.length).toLowerCase()}`;
  return k.toLowerCase().replace(/_/g, '-');
}

export const postgrestConfigText = (vars: ReadonlyArray<[string, string]>) =>
  `${vars.map(([k, v]) => `${postgrestKey(k)} = "${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join('\n')}\n`;
