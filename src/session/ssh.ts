import { InterruptedError } from '../errors.js';
import { PASSPHRASE_ENV } from '../ssh/passphrase.js';
import { SshPool } from '../ssh/pool.js';
import type { Ui } from '../output/ui.js';
import type { Session } from './session.js';

/**
 * Aborted on the first Ctrl-C (SIGINT/SIGTERM), so the step engine stops and runs its cleanups;
 * a second Ctrl-C exits at once with 130.
 */
export function interruptSignal(ctx: { ui: Ui }): { signal: AbortSignal; dispose: () => void } {
  const ctl = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (ctl.signal.aborted) {
      ctx.ui.warn('second interrupt: exiting now, cleanups skipped');
      process.exit(130);
    }
    ctx.ui.warn(`${name} received: stopping, then cleaning up (press Ctrl-C again to exit at once)`);
    ctl.abort(new InterruptedError());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ctl.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * The SSH connections of one command: one per node, reused. An encrypted identity's passphrase
 * comes from TWINCIGO_SSH_PASSPHRASE, else is asked on a TTY, else the error names the variable.
 */
export function sshPool(ctx: Pick<Session, 'ui' | 'options' | 'config'>): SshPool {
  const asked = new Map<string, Promise<string>>();
  return new SshPool(ctx.config.dir, {
    acceptNewHostKeys: ctx.options.acceptNewHostKeys,
    onNewHostKey: (t, fp) => ctx.ui.warn(`${t.label}: recorded new host key ${fp} for ${t.host}:${t.port} in ${t.knownHostsFile}`),
    debug: (m) => ctx.ui.debug(m),
    passphrase: (file) => {
      const fromEnv = process.env[PASSPHRASE_ENV];
      if (fromEnv !== undefined) return Promise.resolve(fromEnv);
      let p = asked.get(file);
      if (!p) asked.set(file, (p = ctx.ui.secret(`passphrase for ${file}`, PASSPHRASE_ENV)));
      return p;
    },
  });
}
