import { STANZA } from '../backup/pgbackrest-config.js';
import { execIn } from './compose.js';
import type { Command } from './shell.js';

/** pgBackRest on the repository host, as postgres in its container (the config where it is mounted). */
export const pgbackrestRepo = (...args: string[]): Command => execIn('pgbackrest-repo', ['pgbackrest', `--stanza=${STANZA}`, ...args], { user: 'postgres' });

/**
 * The stanza created (idempotent: pgBackRest checks it matches the cluster), archiving checked end
 * to end, and a first full backup when the repository has none — a new cluster is backed up from
 * its first minute, not from the first scheduled night.
 */
const SETUP = [
  `pgbackrest --stanza=${STANZA} stanza-create`,
  `pgbackrest --stanza=${STANZA} check`,
  `if pgbackrest --stanza=${STANZA} --output=json info | grep -qF '"backup":[]'; then pgbackrest --stanza=${STANZA} --type=full backup && echo "first full backup taken"; fi`,
].join(' && ');
export const stanzaSetupCommand = (): Command => execIn('pgbackrest-repo', ['sh', '-c', SETUP], { user: 'postgres' });

/** Every backup and the archive's range, as JSON. */
export const infoCommand = (): Command => pgbackrestRepo('--output=json', 'info');

export const backupCommand = (type: 'full' | 'diff' | 'incr'): Command => pgbackrestRepo(`--type=${type}`, 'backup');

export const checkCommand = (): Command => pgbackrestRepo('check');
