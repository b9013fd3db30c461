import { describe, expect, it } from 'vitest';
import { and, or, pipe, quote, redirect, render, root, run, seq } from '../../src/remote/shell.js';

describe('quote', () => {
  it('leaves safe words alone', () => {
    expect(quote('docker')).toBe('docker');
    expect(quote('/opt/twincigo-crm/env/.env.dev')).toBe('/opt/twincigo-crm/env/.env.dev');
    expect(quote('a=b,c:d@e%f+g')).toBe('a=b,c:d@e%f+g');
  });
  it('single-quotes everything else, including quotes', () => {
    expect(quote('')).toBe("''");
    expect(quote('two words')).toBe("'two words'");
    expect(quote("it's")).toBe("'it'\\''s'");
    expect(quote('$(rm -rf /)')).toBe("'$(rm -rf /)'");
    expect(quote('a;b|c&d')).toBe("'a;b|c&d'");
    expect(quote('*')).toBe("'*'");
    expect(quote('line\nbreak')).toBe("'line\nbreak'");
  });
});

describe('render', () => {
  it('renders an argument array', () => {
    expect(render(run('docker', 'compose', '-f', 'my file.yml', 'up', '-d'))).toBe("docker compose -f 'my file.yml' up -d");
  });
  it('adds sudo -n only to root commands, only for non-root users', () => {
    const cmd = and(root('mkdir', '-p', '/opt/x'), run('id', '-un'));
    expect(render(cmd, { sudo: false })).toBe('mkdir -p /opt/x && id -un');
    expect(render(cmd, { sudo: true })).toBe('sudo -n -- mkdir -p /opt/x && id -un');
  });
  it('groups mixed operators explicitly', () => {
    expect(render(and(run('a'), or(run('b'), run('c'))))).toBe('a && { b || c; }');
    expect(render(pipe(run('docker', 'save', 'img:1'), run('gzip')))).toBe('docker save img:1 | gzip');
    expect(render(seq(run('a'), run('b')))).toBe('a ; b');
  });
  it('renders redirections with quoted targets', () => {
    expect(render(redirect(run('cat'), { stdin: 'in file', stdout: '/tmp/out', stderr: '&1' }))).toBe("cat < 'in file' > /tmp/out 2>&1");
    expect(render(redirect(and(run('a'), run('b')), { stderr: '/dev/null' }))).toBe('{ a && b; } 2> /dev/null');
  });
  it('refuses an empty command', () => {
    expect(() => render(run())).toThrow('empty command');
  });
});

describe('the module', () => {
  it('is not a thenable (a `then` export would make `await import()` hang)', async () => {
    const mod = await import('../../src/remote/shell.js');
    expect('then' in mod).toBe(false);
  });
});

describe('compose', () => {
  it('builds the node compose command with project, env file and files in order', async () => {
    const { compose } = await import('../../src/remote/compose.js');
    expect(render(compose('/opt/twincigo-crm', ['compose/etcd.yml', 'compose/patroni.yml'], 'up', '-d', 'etcd'), { sudo: true })).toBe(
      'sudo -n -- docker compose --project-name twincigo --project-directory /opt/twincigo-crm --env-file /opt/twincigo-crm/.env -f /opt/twincigo-crm/compose/etcd.yml -f /opt/twincigo-crm/compose/patroni.yml up -d etcd',
    );
  });
});

describe('lock commands', () => {
  it('take the lock with an atomic mkdir, then write its details from stdin', async () => {
    const { acquireCommand, releaseCommand } = await import('../../src/cluster/lock.js');
    const { appendAuditCommand } = await import('../../src/audit/write.js');
    expect(render(acquireCommand('/opt/twincigo-crm'), { sudo: true })).toBe(
      'sudo -n -- mkdir -p -- /opt/twincigo-crm && sudo -n -- mkdir -- /opt/twincigo-crm/.lock && sudo -n -- sh -c \'cat > "$1"\' sh /opt/twincigo-crm/.lock/details.json',
    );
    expect(render(releaseCommand('/opt/twincigo-crm'))).toBe('rm -rf -- /opt/twincigo-crm/.lock');
    expect(render(appendAuditCommand('/opt/x'))).toBe('mkdir -p -- /opt/x && sh -c \'cat >> "$1"\' sh /opt/x/audit.log');
  });
});
