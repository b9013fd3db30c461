import type { NodeConfig } from '../config/model.js';
import type { ConnectOptions, SshConnection } from './connection.js';
import { knownHostsPerFile } from './known-hosts.js';
import { resolveTarget, type SshTarget } from './target.js';

export type PoolOptions = Omit<ConnectOptions, 'knownHosts'>;

/** One connection per node, opened on first use and reused for the whole command. */
export class SshPool {
  private readonly connections = new Map<string, Promise<SshConnection>>();
  private readonly knownHosts = knownHostsPerFile();

  constructor(
    private readonly configDir: string,
    private readonly opts: PoolOptions,
  ) {}

  target(node: NodeConfig): SshTarget {
    return resolveTarget(node.name, node.host, node.ssh, this.configDir);
  }

  get(node: NodeConfig): Promise<SshConnection> {
    let conn = this.connections.get(node.name);
    if (conn) {
      // a connection that dropped is reopened once per request
      conn = conn.then((c) => (c.isOpen ? c : this.open(node)));
    } else {
      conn = this.open(node);
    }
    this.connections.set(node.name, conn);
    conn.catch(() => this.connections.delete(node.name));
    return conn;
  }

  private async open(node: NodeConfig): Promise<SshConnection> {
    // ssh2 is loaded only when a connection is opened (a command served by kept connections needs none)
    const { SshConnection } = await import('./connection.js');
    return SshConnection.open(this.target(node), {
      ...this.opts,
      knownHosts: this.knownHosts,
    });
  }

  async closeAll(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close(), () => undefined)));
  }
}
