import type { NodeConfig } from '../../config/model.js';
import { render, type Command } from '../../remote/shell.js';
import type { ExecOptions, ExecResult } from '../connection.js';
import type { SshPool } from '../pool.js';
import { usesSudo, type SshTarget } from '../target.js';
import { HolderUnavailable, holderExec } from './client.js';
import { holderSocket, persistIdleMs, spawnHolder } from './socket.js';

export interface NodeExec {
  exec(cmd: Command | string, opts?: ExecOptions): Promise<ExecResult>;
}

/**
 * SSH connections kept between commands (OpenSSH's ControlPersist): a command goes through the
 * user's holder process when it has a connection to the node (no handshake, no new login on the
 * node), else it connects as usual, and the holder — started if none runs — opens one for the next
 * command. A connection stays `ssh.persist` seconds unused (default 60; TWINCIGO_SSH_PERSIST=0
 * turns it off). A holder that does not get a channel opened within a second (its connection
 * died) is passed over: the command connects directly. For read-only, repeatable commands (status).
 */
export class KeptConnections {
  private readonly toHold: Array<{ target: SshTarget; idleMs: number }> = [];

  constructor(
    private readonly pool: SshPool,
    private readonly socket: string | undefined = holderSocket(),
  ) {}

  async get(node: NodeConfig): Promise<NodeExec> {
    return { exec: (cmd, opts = {}) => this.exec(node, cmd, opts) };
  }

  private async exec(node: NodeConfig, cmd: Command | string, opts: ExecOptions): Promise<ExecResult> {
    const target = this.pool.target(node);
    const idleMs = persistIdleMs(target);
    const streamedStdin = opts.stdin !== undefined && typeof opts.stdin !== 'string' && !Buffer.isBuffer(opts.stdin);
    if (!this.socket || idleMs === 0 || streamedStdin) return (await this.pool.get(node)).exec(cmd, opts);
    let absent = false;
    try {
      return await holderExec(this.socket, typeof cmd === 'string' ? cmd : render(cmd, { sudo: usesSudo(target) }), {
        target,
        idleMs,
        timeoutMs: opts.timeoutMs ?? target.commandTimeoutMs,
        startTimeoutMs: Math.min(1000, target.connectTimeoutMs / 2),
        ...(opts.stdin !== undefined ? { stdin: opts.stdin.toString() } : {}),
        ...(opts.onStdout ? { onStdout: opts.onStdout } : {}),
        ...(opts.onStderr ? { onStderr: opts.onStderr } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (!(err instanceof HolderUnavailable)) throw err;
      absent = err.reason === 'absent';
    }
    const result = await (await this.pool.get(node)).exec(cmd, opts);
    if (absent) this.toHold.push({ target, idleMs });
    return result;
  }

  /**
   * Starts a holder for the nodes this command reached directly because none answered: call it
   * when the command's remote work is done (the holder's own start-up then competes with nothing).
   */
  flush(): void {
    if (!this.socket || this.toHold.length === 0) return;
    spawnHolder({ socket: this.socket, targets: this.toHold.splice(0) });
  }
}
