/**
 * A TCP connect scan from the lab host — which stands for the internet: not a cluster node — of
 * every port 1–65535 of a node. Open: the connection was accepted; closed: refused (RST) or no
 * answer within the timeout (dropped). Any other error (out of file descriptors, …) fails the scan
 * rather than being counted as closed, so a scan cannot pass by not looking.
 */
import { connect } from 'node:net';

export async function openPorts(ip: string, opts: { concurrency?: number; timeoutMs?: number } = {}): Promise<number[]> {
  const { concurrency = 2000, timeoutMs = 1000 } = opts;
  const open: number[] = [];
  let next = 1;
  const one = (port: number) =>
    new Promise<void>((resolve, reject) => {
      const s = connect({ host: ip, port });
      const done = (err?: Error) => {
        s.destroy();
        if (err) reject(err);
        else resolve();
      };
      s.setTimeout(timeoutMs, () => done());
      s.once('connect', () => {
        open.push(port);
        done();
      });
      s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' ? undefined : new Error(`scan of ${ip}:${port}: ${e.code ?? e.message}`)));
    });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next <= 65535) await one(next++);
  }));
  return open.sort((a, b) => a - b);
}
