import { execIn } from '../remote/compose.js';
import type { Command } from '../remote/shell.js';

/**
 * A call to Patroni's REST API on a node's own member (127.0.0.1:8008), from inside its container.
 * The API's credentials come from the container's environment and reach curl as a config on stdin
 * — never on a command line. Prints the response body, then the HTTP code on the last line.
 */
const SCRIPT = [
  'printf \'user = "%s:%s"\\n\' "$PATRONI_RESTAPI_USERNAME" "$PATRONI_RESTAPI_PASSWORD" |',
  '  curl -sS -K - --max-time 60 -w "\\n%{http_code}" -X "$1" -H "Content-Type: application/json" ${2:+-d "$2"} "http://127.0.0.1:8008$3"',
].join('\n');

export function patroniApiCommand(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Command {
  return execIn('patroni', ['sh', '-c', SCRIPT, 'sh', method, body === undefined ? '' : JSON.stringify(body), path]);
}

export interface ApiResponse {
  status: number;
  body: string;
}

export function parseApiResponse(stdout: string): ApiResponse {
  const lines = stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { status: Number.isFinite(status) ? status : 0, body: lines.join('\n').trim() };
}
