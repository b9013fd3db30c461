import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { InterruptedError } from '../errors.js';
import { render, type Command } from '../remote/shell.js';
import { authAttempts, type PassphraseProvider } from './auth.js';
import { classify, SshError } from './errors.js';
import { hostKeyGuard, type HostKeyPolicy } from './host-key.js';
import { Semaphore } from './semaphore.js';
import { usesSudo, type SshTarget } from './target.js';

export interface ConnectOptions extends HostKeyPolicy {
  passphrase: PassphraseProvider;
  debug?: (msg: string) => void;
}

export interface ExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Sent to the command's stdin; a stream (e.g. `docker save`) is piped, with backpressure. */
  stdin?: string | Buffer | NodeJS.ReadableStream;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Called when the node has opened the command's channel (the connection is alive). */
  onStart?: () => void;
}

export interface ExecResult {
  command: string;
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** A remote command ended with a non-zero exit code. */
export class RemoteCommandError extends SshError {
  constructor(node: string, readonly result: ExecResult) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join('\n    ');
    super(node, 'other', `\`${short(result.command)}\` exited with ${result.code ?? result.signal}${tail ? `:\n    ${tail}` : ''}`);
  }
}

const short = (cmd: string) => (cmd.length > 120 ? `${cmd.slice(0, 117)}...` : cmd);
const MAX_CAPTURE = 4 * 1024 * 1024;

/**
 * runc failing to start an exec'd process before it ran ("OCI runtime exec failed: … waiting for
 * init preliminary setup: read init-p: connection reset by peer"): a known transient race of the
 * container runtime on a loaded machine (seen on the 2-core lab). Nothing was started, so the
 * command is safe to send once more.
 */
export const RUNC_EXEC_NOT_STARTED = /OCI runtime exec failed: exec failed: unable to start container process: waiting for init preliminary setup/;
/** OpenSSH allows 10 sessions per connection (MaxSessions); stay under it. */
const MAX_CHANNELS = 8;

const SUDO_REFUSED = /sudo: (a password is required|a terminal is required|.*not in the sudoers|.*is not allowed to)/;

/** One SSH connection to a node, reused for a whole command. */
export class SshConnection {
  private sftpSession?: Promise<SFTPWrapper>;
  private readonly channels = new Semaphore(MAX_CHANNELS);
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];

  private constructor(
    readonly target: SshTarget,
    private readonly client: ssh2.Client,
    private readonly via?: SshConnection,
  ) {
    client.on('close', () => {
      this.closed = true;
      for (const l of this.closeListeners.splice(0)) l();
    });
  }

  /** Commands marked root get `sudo -n` when the SSH user is not root. */
  get sudo(): boolean {
    return usesSudo(this.target);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Called once when the connection ends (closed here, by the node, or a failed keepalive). */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  static async open(target: SshTarget, opts: ConnectOptions): Promise<SshConnection> {
    const via = target.jump ? await SshConnection.open(target.jump, opts) : undefined;
    try {
      const sock = via ? await via.forward(target.host, target.port) : undefined;
      const client = await connect(target, opts, sock);
      return new SshConnection(target, client, via);
    } catch (err) {
      via?.close();
      throw err;
    }
  }

  /** Runs a command; resolves with its exit code (non-zero is not an error here). */
  async exec(cmd: Command | string, opts: ExecOptions = {}): Promise<ExecResult> {
    const command = typeof cmd === 'string' ? cmd : render(cmd, { sudo: this.sudo });
    const release = await this.channels.acquire();
    try {
      let result = await this.execChannel(command, opts);
      // runc could not start a `docker exec` at all (nothing ran): once more, after a moment
      const replayable = opts.stdin === undefined || typeof opts.stdin === 'string' || Buffer.isBuffer(opts.stdin);
      if (result.code === 126 && RUNC_EXEC_NOT_STARTED.test(result.stderr) && replayable && !opts.signal?.aborted) {
        await new Promise((r) => setTimeout(r, 500));
        result = await this.execChannel(command, opts);
      }
      if (result.code !== 0 && SUDO_REFUSED.test(result.stderr)) {
        throw new SshError(this.target.label, 'sudo', `user ${this.target.user} may not run sudo without a password`, [
          `allow it passwordless sudo (e.g. "${this.target.user} ALL=(ALL) NOPASSWD: ALL" in /etc/sudoers.d/), or connect as root`,
        ]);
      }
      return result;
    } finally {
      release();
    }
  }

  /** Runs a command and throws RemoteCommandError unless it exits 0. */
  async run(cmd: Command | string, opts: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.exec(cmd, opts);
    if (result.code !== 0) throw new RemoteCommandError(this.target.label, result);
    return result;
  }

  private execChannel(command: string, opts: ExecOptions): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? this.target.commandTimeoutMs;
    const started = performance.now();
    return new Promise<ExecResult>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new InterruptedError());
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      let signal: string | undefined;
      let channel: ClientChannel | undefined;
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) {
          try {
            channel?.signal('KILL');
            channel?.close();
          } catch {
            /* channel already gone */
          }
          reject(err);
        } else resolve({ command, code, signal, stdout, stderr, durationMs: performance.now() - started });
      };
      const onAbort = () => finish(new InterruptedError(`${this.target.label}: interrupted while running \`${short(command)}\``));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(
        () => finish(new SshError(this.target.label, 'timeout', `\`${short(command)}\` timed out after ${timeoutMs / 1000}s`)),
        timeoutMs,
      );
      this.client.exec(command, (err, ch) => {
        if (err) return finish(classify(this.target, err));
        channel = ch;
        if (settled) return void ch.close();
        opts.onStart?.();
        ch.on('data', (d: Buffer) => {
          const s = d.toString('utf8');
          if (stdout.length < MAX_CAPTURE) stdout += s;
          opts.onStdout?.(s);
        });
        ch.stderr.on('data', (d: Buffer) => {
          const s = d.toString('utf8');
          if (stderr.length < MAX_CAPTURE) stderr += s;
          opts.onStderr?.(s);
        });
        ch.on('exit', (c: number | null, sig?: string) => {
          code = c;
          if (sig) signal = sig;
        });
        ch.on('close', () => finish());
        if (opts.stdin === undefined) ch.end();
        else if (typeof opts.stdin === 'string' || Buffer.isBuffer(opts.stdin)) ch.end(opts.stdin);
        else {
          opts.stdin.on('error', (e: Error) => finish(new SshError(this.target.label, 'other', `stdin of \`${short(command)}\` failed: ${e.message}`)));
          opts.stdin.pipe(ch);
        }
      });
    });
  }

  /**
   * Runs a command attached to this terminal: our stdin goes to it, its output comes straight
   * here; with `pty` the remote side gets a terminal of our size (raw keystrokes, resizes
   * followed) — `twincigo exec` of psql or a shell. Resolves with the command's exit code.
   */
  attach(cmd: Command | string, io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream; pty: boolean }): Promise<number> {
    const command = typeof cmd === 'string' ? cmd : render(cmd, { sudo: this.sudo });
    const pty = io.pty ? { pty: { term: process.env.TERM ?? 'xterm-256color', rows: io.stdout.rows ?? 24, cols: io.stdout.columns ?? 80, width: 0, height: 0 } } : {};
    return new Promise<number>((resolve, reject) => {
      this.client.exec(command, pty, (err, ch) => {
        if (err) return reject(classify(this.target, err));
        let code = 255;
        const raw = io.pty && io.stdin.isTTY;
        if (raw) io.stdin.setRawMode(true);
        const onResize = () => ch.setWindow(io.stdout.rows ?? 24, io.stdout.columns ?? 80, 0, 0);
        io.stdout.on('resize', onResize);
        io.stdin.pipe(ch);
        ch.pipe(io.stdout, { end: false });
        ch.stderr.pipe(io.stderr, { end: false });
        ch.on('exit', (c: number | null) => {
          code = c ?? 255;
        });
        ch.on('close', () => {
          io.stdin.unpipe(ch);
          if (raw) io.stdin.setRawMode(false);
          io.stdin.pause();
          io.stdout.off('resize', onResize);
          resolve(code);
        });
      });
    });
  }

  /** A TCP stream to host:port opened from the node (jump hosts, tunnels to Patroni/HAProxy/Postgres). */
  forward(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
        if (err) {
          reject(new SshError(this.target.label, 'jump', `could not open a connection from ${this.target.label} to ${host}:${port}: ${err.message}`));
        } else resolve(stream);
      });
    });
  }

  sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((resolve, reject) => {
      this.client.sftp((err, sftp) => (err ? reject(classify(this.target, err)) : resolve(sftp)));
    });
    return this.sftpSession;
  }

  close(): void {
    if (!this.closed) this.client.end();
    this.closed = true;
    this.via?.close();
  }
}

function connect(target: SshTarget, opts: ConnectOptions, sock?: Duplex): Promise<ssh2.Client> {
  const guard = hostKeyGuard(target, opts);
  const attempts = authAttempts(target, opts.passphrase);
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let authError: Error | undefined;
    const fail = (err: unknown) => {
      client.removeAllListeners('ready');
      client.on('error', () => {});
      client.end();
      reject(guard.failure() ?? authError ?? classify(target, err));
    };
    client.once('ready', () => {
      client.removeListener('error', onError);
      client.on('error', (err) => opts.debug?.(`${target.label}: ${err.message}`));
      resolve(client);
    });
    const onError = (err: Error & { level?: string }) => {
      if (err.level === 'agent') return opts.debug?.(`${target.label}: ssh-agent: ${err.message}`);
      fail(err);
    };
    client.on('error', onError);
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: target.connectTimeoutMs,
      keepaliveInterval: target.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      hostVerifier: guard.verify,
      algorithms: guard.algorithms,
      authHandler: (_methods, _partial, next) => {
        const attempt = attempts.shift();
        if (!attempt) return next(false as never);
        attempt().then(
          (a) => next(a as never),
          (err: Error) => {
            authError = err;
            next(false as never);
          },
        );
      },
      ...(sock ? { sock } : {}),
      ...(process.env.TWINCIGO_SSH_DEBUG ? { debug: (m: string) => opts.debug?.(`${target.label}: ${m}`) } : {}),
    };
    try {
      client.connect(config);
      // Nagle off: small request/response exchanges (queries through a tunnel, short commands)
      // would otherwise wait for the peer's delayed ACK, ~40 ms each
      client.setNoDelay(true);
    } catch (err) {
      fail(err);
    }
  });
}
