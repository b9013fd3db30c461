import { and, root, type Command } from '../remote/shell.js';
import type { NodeFacts } from './preflight-probe.js';
import { dockerInstallPackages } from './preflight.js';

/** Installs Docker and compose v2 from the node's OS packages (apt), and starts the engine. */
export function installDockerCommand(os: NodeFacts['os']): Command {
  return and(
    root('env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-q'),
    root('env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-install-recommends', ...dockerInstallPackages(os)),
    root('sh', '-c', 'if [ -d /run/systemd/system ]; then systemctl enable --now docker; fi; docker info >/dev/null'),
  );
}
