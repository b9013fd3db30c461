import { and, root, type Command } from './shell.js';

export const PROJECT = 'twincigo';

/**
 * `docker compose` on a node for its rendered bundle: the project is the base dir (relative paths
 * in the compose files resolve there), the env file is the bundle's .env, the files are the node's
 * compose files in order. Compose v2; nodes with only v1 are refused by preflight.
 */
export function compose(baseDir: string, files: readonly string[], ...args: string[]): Command {
  return root(
    'docker', 'compose',
    '--project-name', PROJECT,
    '--project-directory', baseDir,
    '--env-file', `${baseDir}/.env`,
    ...files.flatMap((f) => ['-f', `${baseDir}/${f}`]),
    ...args,
  );
}

/** compose's name for a service's (only) container in the twincigo project. */
export const containerName = (service: string) => `${PROJECT}-${service}-1`;

/**
 * A command inside a service's running container — `docker exec` by compose's container name,
 * which skips compose's project loading (~0.4 s per call on a small node).
 */
export const execIn = (service: string, argv: readonly string[], opts: { stdin?: boolean; tty?: boolean; user?: string } = {}): Command =>
  root('docker', 'exec', ...(opts.stdin ? ['-i'] : []), ...(opts.tty ? ['-t'] : []), ...(opts.user ? ['-u', opts.user] : []), containerName(service), ...argv);

/**
 * Would `compose up` recreate the service? Two lines: `<service> <hash>` as the node's files define
 * it now, then the config hash label of its running container.
 */
export const configHashesCommand = (baseDir: string, files: readonly string[], service: string): Command =>
  and(compose(baseDir, files, 'config', '--hash', service), root('docker', 'inspect', '--format', '{{index .Config.Labels "com.docker.compose.config-hash"}}', containerName(service)));
