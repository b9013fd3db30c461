import { execIn } from '../remote/compose.js';
import type { Command } from '../remote/shell.js';

/**
 * A planned leader change through Patroni's REST API, asked on the leader's own node. The REST
 * API's credentials come from the patroni container's environment and reach curl as a config on
 * stdin — never on a command line. Prints the response body, then the HTTP code on the last line.
 */
const SCRIPT = [
  'printf \'user = "%s:%s"\\n\' "$PATRONI_RESTAPI_USERNAME" "$PATRONI_RESTAPI_PASSWORD" |',
  '  curl -sS -K - --max-time 60 -w "\\n%{http_code}" -X POST -H "Content-Type: application/json" -d "$1" http://127.0.0.1:8008/switchover',
].join('\n');

export function switchoverCommand(leader: string, candidate?: string): Command {
  const body = JSON.stringify(candidate ? { leader, candidate } : { leader });
  return execIn('patroni', ['sh', '-c', SCRIPT, 'sh', body]);
}

export function parseSwitchoverResponse(stdout: string): { status: number; message: string } {
  const lines = stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { status: Number.isFinite(status) ? status : 0, message: lines.join(' ').trim() };
}
