import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** A valid three-node inventory document, for tests to break on purpose. */
export function validInventory(): Record<string, any> {
  const node = (name: string, host: string, roles: string[]) => ({ name, host, roles });
  return {
    version: 1,
    environments: {
      dev: {
        nodes: [
          node('hil-1', '10.0.0.1', ['etcd', 'patroni', 'haproxy', 'supabase', 'storage']),
          node('ash-1', '10.0.0.2', ['etcd', 'patroni', 'haproxy', 'backend', 'redis']),
          node('ash-2', '10.0.0.3', ['etcd', 'patroni', 'haproxy', 'monitoring']),
        ],
      },
    },
  };
}

export function writeInventory(dir: string, doc: unknown, name = 'twincigo.yml'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof doc === 'string' ? doc : stringify(doc));
  return file;
}
