import type { Command } from '../remote/shell.js';
import { parseApiResponse, patroniApiCommand } from './patroni-api.js';

/** A planned leader change through Patroni's REST API, asked on the leader's own node. */
export function switchoverCommand(leader: string, candidate?: string): Command {
  return patroniApiCommand('POST', '/switchover', candidate ? { leader, candidate } : { leader });
}

export function parseSwitchoverResponse(stdout: string): { status: number; message: string } {
  const r = parseApiResponse(stdout);
  return { status: r.status, message: r.body.split('\n').join(' ').trim() };
}
