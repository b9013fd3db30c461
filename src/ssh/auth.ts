import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { SshError } from './errors.js';
import type { PassphraseProvider } from './passphrase.js';
import type { SshTarget } from './target.js';

export { PASSPHRASE_ENV, type PassphraseProvider } from './passphrase.js';

export type AuthAttempt =
  | { type: 'agent'; username: string; agent: string }
  | { type: 'publickey'; username: string; key: Buffer; passphrase?: string };

/**
 * The authentication attempts in order — ssh-agent first, as OpenSSH does, then each identity
 * file. An encrypted key's passphrase is only asked for when that key's turn comes.
 */
export function authAttempts(target: SshTarget, passphrase: PassphraseProvider): Array<() => Promise<AuthAttempt>> {
  const out: Array<() => Promise<AuthAttempt>> = [];
  const agent = process.env.SSH_AUTH_SOCK;
  if (agent) out.push(async () => ({ type: 'agent', username: target.user, agent }));
  for (const file of target.identityFiles) {
    let key: Buffer;
    try {
      key = readFileSync(file);
    } catch (err) {
      throw new SshError(target.label, 'identity', `cannot read identity file ${file}: ${(err as Error).message}`);
    }
    const parsed = ssh2.utils.parseKey(key);
    if (!(parsed instanceof Error)) {
      out.push(async () => ({ type: 'publickey', username: target.user, key }));
      continue;
    }
    if (!/encrypted|passphrase/i.test(parsed.message)) {
      throw new SshError(target.label, 'identity', `identity file ${file} is not a usable private key (${parsed.message})`);
    }
    out.push(async () => {
      const pass = await passphrase(file);
      const check = ssh2.utils.parseKey(key, pass);
      if (check instanceof Error) throw new SshError(target.label, 'auth', `wrong passphrase for identity file ${file}`);
      return { type: 'publickey', username: target.user, key, passphrase: pass };
    });
  }
  if (out.length === 0) {
    throw new SshError(target.label, 'identity', `no way to authenticate as ${target.user}: no ssh-agent (SSH_AUTH_SOCK) and no identity file`, [
      'set ssh.identity in the inventory, or IdentityFile in ~/.ssh/config, or start ssh-agent',
    ]);
  }
  return out;
}
