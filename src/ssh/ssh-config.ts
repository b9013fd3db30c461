import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';

/** The subset of ~/.ssh/config twincigo honours. First value found wins, as in OpenSSH. */
export interface SshConfigHost {
  hostName?: string;
  user?: string;
  port?: number;
  identityFile?: string[];
  proxyJump?: string;
  userKnownHostsFile?: string;
}

interface Block {
  patterns: string[];
  options: [string, string][];
}

export function parseSshConfig(text: string): Block[] {
  const blocks: Block[] = [{ patterns: ['*'], options: [] }];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.trim().replace(/^"(.*)"$/, '$1');
    if (key === 'host') blocks.push({ patterns: value.split(/\s+/), options: [] });
    else if (key === 'match') blocks.push({ patterns: [], options: [] }); // Match blocks are not evaluated
    else blocks[blocks.length - 1]!.options.push([key, value]);
  }
  return blocks;
}

function matches(patterns: string[], host: string): boolean {
  let hit = false;
  for (const p of patterns) {
    const neg = p.startsWith('!');
    const body = (neg ? p.slice(1) : p).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    if (new RegExp(`^${body}$`, 'i').test(host)) {
      if (neg) return false;
      hit = true;
    }
  }
  return hit;
}

export function expandTilde(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

export function lookupSshConfig(blocks: Block[], host: string): SshConfigHost {
  const out: SshConfigHost = {};
  for (const block of blocks) {
    if (!matches(block.patterns, host)) continue;
    for (const [key, value] of block.options) {
      switch (key) {
        case 'hostname':
          out.hostName ??= value.replace(/%h/g, host);
          break;
        case 'user':
          out.user ??= value;
          break;
        case 'port':
          out.port ??= Number(value);
          break;
        case 'identityfile':
          (out.identityFile ??= []).push(expandTilde(value).replace(/%d/g, homedir()).replace(/%h/g, host));
          break;
        case 'proxyjump':
          if (value.toLowerCase() !== 'none') out.proxyJump ??= value;
          break;
        case 'userknownhostsfile':
          out.userKnownHostsFile ??= expandTilde(value.split(/\s+/)[0]!);
          break;
      }
    }
  }
  return out;
}

export function readSshConfig(file: string): Block[] {
  return existsSync(file) ? parseSshConfig(readFileSync(file, 'utf8')) : [];
}
