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
  // every repository (prod: the offsite one too) gets the stanza, is checked, and gets a first full backup
  `pgbackrest --stanza=${STANZA} stanza-create`,
  `pgbackrest --stanza=${STANZA} check`,
  `for r in $(cat /etc/twincigo/pgbackrest/repositories 2>/dev/null || echo 1); do if pgbackrest --stanza=${STANZA} --repo=$r --output=json info | grep -qF '"backup":[]'; then pgbackrest --stanza=${STANZA} --repo=$r --type=full backup && echo "first full backup taken (repository $r)" || exit 1; fi; done`,
].join(' && ');
export const stanzaSetupCommand = (): Command => execIn('pgbackrest-repo', ['sh', '-c', SETUP], { user: 'postgres' });

/** Every backup and the archive's range, as JSON. */
export const infoCommand = (): Command => pgbackrestRepo('--output=json', 'info');

export const backupCommand = (type: 'full' | 'diff' | 'incr', repo = 1): Command => pgbackrestRepo(`--repo=${repo}`, `--type=${type}`, 'backup');

export const checkCommand = (): Command => pgbackrestRepo('check');
