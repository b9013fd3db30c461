import { TwincigoError } from '../errors.js';
import type { SshConnection } from '../ssh/connection.js';
import { loadImageCommand } from './images.js';

/**
 * --ship-images: `docker save` on the operator's machine piped over the SSH channel into
 * `docker load` on the node — for nodes without a registry (air-gapped, the lab).
 */
export async function shipImage(conn: SshConnection, image: string, signal: AbortSignal): Promise<void> {
  const { execa } = await import('execa');
  const local = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { reject: false });
  if (local.exitCode !== 0) {
    throw new TwincigoError(`${image} is not in the local Docker (docker pull or build it here first, or drop --ship-images)`);
  }
  const save = execa('docker', ['save', image], { buffer: false, cancelSignal: signal, stdout: 'pipe', stderr: 'pipe' });
  let saveErr = '';
  save.stderr?.on('data', (d: Buffer) => (saveErr += d.toString()));
  const [load] = await Promise.all([
    conn.exec(loadImageCommand(), { stdin: save.stdout!, timeoutMs: 1_800_000, signal }),
    save.catch((e: unknown) => {
      throw new TwincigoError(`docker save ${image} failed: ${saveErr.trim() || String(e)}`);
    }),
  ]);
  if (load.code !== 0) throw new TwincigoError(`${conn.target.label}: docker load of ${image} failed: ${load.stderr.trim()}`);
}
