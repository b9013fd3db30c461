import { homedir } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lookupSshConfig, parseSshConfig } from '../../src/ssh/ssh-config.js';
import { parseHostSpec, resolveTarget } from '../../src/ssh/target.js';
import { tempDir } from '../helpers/tmp.js';

const CONFIG = `
# comment
Host hil-*  !hil-9
  HostName %h.example.net
  User deploy
  Port 2222
  IdentityFile ~/.ssh/hil_key

Host *
  User fallback
  IdentityFile ~/.ssh/default_key
  ProxyJump bastion.example.net
Host bastion.example.net
  User jumper
`;

describe('~/.ssh/config', () => {
  const blocks = parseSshConfig(CONFIG);
  it('takes the first value per key, in file order', () => {
    expect(lookupSshConfig(blocks, 'hil-1')).toEqual({
      hostName: 'hil-1.example.net',
      user: 'deploy',
      port: 2222,
      identityFile: [join(homedir(), '.ssh/hil_key'), join(homedir(), '.ssh/default_key')],
      proxyJump: 'bastion.example.net',
    });
  });
  it('honours negated patterns', () => {
    expect(lookupSshConfig(blocks, 'hil-9').user).toBe('fallback');
  });
  it('parses key=value lines and quoted values', () => {
    expect(lookupSshConfig(parseSshConfig('Host a\n  Port=2200\n  User "x y"'), 'a')).toEqual({ port: 2200, user: 'x y' });
  });
});

describe('resolveTarget', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.cleanup());

  it('prefers explicit inventory settings over ~/.ssh/config, and config over defaults', () => {
    const cfg = join(tmp.dir, 'ssh_config');
    writeFileSync(cfg, 'Host n1\n  HostName 10.1.1.1\n  User cfguser\n  Port 2022\n  ProxyJump ops@jump:2200\n');
    const t = resolveTarget('n1', 'n1', { config: cfg, user: 'root', identity: 'keys/id', knownHosts: 'kh' }, tmp.dir);
    expect(t).toMatchObject({ host: '10.1.1.1', port: 2022, user: 'root', identityFiles: [join(tmp.dir, 'keys/id')], knownHostsFile: join(tmp.dir, 'kh') });
    expect(t.jump).toMatchObject({ host: 'jump', port: 2200, user: 'ops', identityFiles: [join(tmp.dir, 'keys/id')] });
  });
  it('chains ProxyJump hops', () => {
    const t = resolveTarget('n', '10.0.0.5', { config: false, jump: 'a@h1:1,b@h2:2' }, tmp.dir);
    expect(t.jump?.host).toBe('h2');
    expect(t.jump?.jump?.host).toBe('h1');
  });
  it('parses [user@]host[:port]', () => {
    expect(parseHostSpec('ops@bastion:2200')).toEqual({ user: 'ops', host: 'bastion', port: 2200 });
    expect(parseHostSpec('bastion')).toEqual({ user: undefined, host: 'bastion', port: undefined });
    expect(parseHostSpec('[::1]:22')).toEqual({ user: undefined, host: '::1', port: 22 });
  });
});
