import type { ConnectConfig } from 'ssh2';
import { SshError } from './errors.js';
import { fingerprint, hostToken, KnownHosts, keyTypeOf } from './known-hosts.js';
import type { SshTarget } from './target.js';

export interface HostKeyPolicy {
  /** Record keys of hosts not yet in known_hosts (never replaces a changed key). */
  acceptNewHostKeys: boolean;
  /** Shared per file, so parallel connections see each other's additions. */
  knownHosts: (file: string) => KnownHosts;
  onNewHostKey?: (target: SshTarget, fp: string) => void;
}

/** Signature algorithms that carry each key type, so the server presents a key we know. */
const ALGOS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
};

/** Strict host key checking against an OpenSSH known_hosts file (hashed entries too). */
export function hostKeyGuard(target: SshTarget, policy: HostKeyPolicy) {
  const known = policy.knownHosts(target.knownHostsFile);
  const preferred = known.keyTypes(target.host, target.port).flatMap((t) => ALGOS[t] ?? []);
  let failure: SshError | undefined;
  const token = hostToken(target.host, target.port);

  const verify = (key: Buffer): boolean => {
    const fp = fingerprint(key);
    const type = keyTypeOf(key);
    const verdict = known.verify(target.host, target.port, key);
    switch (verdict.status) {
      case 'known':
        return true;
      case 'unknown':
        if (policy.acceptNewHostKeys) {
          known.add(target.host, target.port, key);
          policy.onNewHostKey?.(target, fp);
          return true;
        }
        failure = new SshError(
          target.label,
          'hostkey-unknown',
          `host key of ${token} is not known: ${type} ${fp} (not in ${target.knownHostsFile})`,
          [
            'check the fingerprint on the node (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub, e.g. in the provider\'s console),',
            'then re-run with --accept-new-host-keys to record it',
          ],
        );
        return false;
      case 'changed':
        failure = new SshError(
          target.label,
          'hostkey-changed',
          `HOST KEY CHANGED for ${token}: it now presents ${type} ${fp}, but ${target.knownHostsFile}:${verdict.line} records another key — refusing to connect`,
          [
            'someone may be intercepting the connection; if the node was rebuilt, verify the new fingerprint,',
            `remove the old entry with: ssh-keygen -R '${token}' -f ${target.knownHostsFile}, then use --accept-new-host-keys`,
          ],
        );
        return false;
      case 'revoked':
        failure = new SshError(
          target.label,
          'hostkey-revoked',
          `host key ${fp} of ${token} is marked @revoked in ${target.knownHostsFile}:${verdict.line} — refusing to connect`,
        );
        return false;
    }
  };

  const algorithms: ConnectConfig['algorithms'] =
    preferred.length > 0 ? { serverHostKey: { remove: preferred, prepend: preferred } as never } : undefined;

  return { verify, algorithms, failure: () => failure };
}
