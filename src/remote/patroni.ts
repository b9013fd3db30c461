import { containerName } from './compose.js';
import { root, type Command } from './shell.js';

const PATRONI = containerName('patroni');

/** Patroni stopped within compose's stop_grace_period (45 s): it releases the leader key on its way out. */
export const stopPatroniCommand = (): Command => root('docker', 'stop', '--time', '45', PATRONI);
export const startPatroniCommand = (): Command => root('docker', 'start', PATRONI);
