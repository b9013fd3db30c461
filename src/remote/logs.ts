import { containerName } from '../remote/compose.js';
import { redirect, root, type Command } from '../remote/shell.js';

export interface LogsOptions {
  lines: number;
  since?: string | undefined;
  follow: boolean;
}

/** `docker logs` of the service's container, its stderr merged into stdout (as one stream of lines). */
export function logsCommand(service: string, o: LogsOptions): Command {
  return redirect(
    root('docker', 'logs', '--timestamps', '--tail', String(o.lines), ...(o.since ? ['--since', o.since] : []), ...(o.follow ? ['--follow'] : []), containerName(service)),
    { stderr: '&1' },
  );
}
