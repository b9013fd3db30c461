import { statSync } from 'node:fs';
import { looseModeMessage, type EnvValues } from '../config/env-file.js';
import type { Config } from '../config/model.js';
import { resolveTarget } from '../ssh/target.js';

/** The env file and the SSH identity files, when group or others can read them. */
export function looseFiles(config: Config, env: EnvValues): string[] {
  const out: string[] = [];
  if (env.looseMode !== undefined) out.push(looseModeMessage(env.file, env.looseMode));
  const ids = new Set(config.nodes.flatMap((n) => resolveTarget(n.name, n.host, n.ssh, config.dir).identityFiles));
  for (const id of ids) {
    try {
      const mode = statSync(id).mode & 0o777;
      if (mode & 0o077) out.push(looseModeMessage(id, mode));
    } catch {
      /* a missing identity file is the SSH layer's error, with its own hint */
    }
  }
  return out;
}


