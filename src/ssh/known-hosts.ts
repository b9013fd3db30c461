import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One line of an OpenSSH known_hosts file. */
export interface KnownHostEntry {
  marker?: '@cert-authority' | '@revoked';
  /** Plain patterns (`host`, `[host]:port`, wildcards, `!neg`) or a hashed `|1|salt|hash` entry. */
  patterns: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  key: string;
  line: number;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@cert-authority' || fields[0] === '@revoked') marker = fields.shift() as KnownHostEntry['marker'];
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) return;
    const entry: KnownHostEntry = { marker, patterns: [], keyType, key, line: i + 1 };
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = hosts.split(',');
    }
    out.push(entry);
  });
  return out;
}

/** The name OpenSSH records: `host` on port 22, `[host]:port` otherwise. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function wildcard(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(value);
}

function entryMatches(entry: KnownHostEntry, token: string): boolean {
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(token).digest();
    return digest.equals(entry.hashed.hash);
  }
  let hit = false;
  for (const p of entry.patterns) {
    if (p.startsWith('!')) {
      if (wildcard(p.slice(1), token)) return false;
    } else if (wildcard(p, token)) hit = true;
  }
  return hit;
}

/** The key type stored inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, …). */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `SHA256:…` as OpenSSH prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export type HostKeyVerdict =
  | { status: 'known' }
  | { status: 'unknown' }
  | { status: 'changed'; line: number }
  | { status: 'revoked'; line: number };

export class KnownHosts {
  private entries: KnownHostEntry[];

  constructor(readonly file: string) {
    this.entries = existsSync(file) ? parseKnownHosts(readFileSync(file, 'utf8')) : [];
  }

  private forHost(host: string, port: number): KnownHostEntry[] {
    const token = hostToken(host, port);
    return this.entries.filter((e) => e.marker !== '@cert-authority' && entryMatches(e, token));
  }

  /** Key types on record for a host, so the handshake asks the server for one of them first. */
  keyTypes(host: string, port: number): string[] {
    return [...new Set(this.forHost(host, port).filter((e) => !e.marker).map((e) => e.keyType))];
  }

  verify(host: string, port: number, blob: Buffer): HostKeyVerdict {
    const key = blob.toString('base64');
    const type = keyTypeOf(blob);
    const entries = this.forHost(host, port);
    const revoked = entries.find((e) => e.marker === '@revoked' && e.key === key);
    if (revoked) return { status: 'revoked', line: revoked.line };
    const plain = entries.filter((e) => !e.marker);
    if (plain.some((e) => e.key === key)) return { status: 'known' };
    const sameType = plain.find((e) => e.keyType === type);
    if (sameType) return { status: 'changed', line: sameType.line };
    return { status: 'unknown' };
  }

  /** Records a new key (never replaces one: a changed key is refused, not overwritten). */
  add(host: string, port: number, blob: Buffer): void {
    const line = `${hostToken(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    let prefix = '';
    if (existsSync(this.file)) {
      const text = readFileSync(this.file, 'utf8');
      if (text.length > 0 && !text.endsWith('\n')) prefix = '\n';
    }
    appendFileSync(this.file, prefix + line, { mode: 0o600 });
    this.entries = parseKnownHosts(readFileSync(this.file, 'utf8'));
  }
}

/** One KnownHosts per file for a whole command, so parallel connections see each other's additions. */
export function knownHostsPerFile(): (file: string) => KnownHosts {
  const files = new Map<string, KnownHosts>();
  return (file) => {
    let kh = files.get(file);
    if (!kh) files.set(file, (kh = new KnownHosts(file)));
    return kh;
  };
}
