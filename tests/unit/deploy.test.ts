import { describe, expect, it } from 'vitest';
import { describeNode, hasChanges, nodeChanges, previousComposeFiles } from '../../src/deploy/changes.js';
import { redactEnvPair, unifiedDiff } from '../../src/deploy/diff.js';
import { inspectCommand, parseFiles, parseInspection } from '../../src/deploy/inspect.js';
import { changedParameters, dcsPatch, describePatch, desiredDcs } from '../../src/deploy/patroni-dcs.js';
import { activateCommand, manifestText, parseList, parseSums, releaseId, sha256, stageFiles } from '../../src/deploy/release.js';
import { previousRelease } from '../../src/operations/deploy.js';
import { render } from '../../src/remote/shell.js';

const sum = (c: string) => sha256(c);

describe('releases', () => {
  it('ids sort by time and are the same on every node of one deploy', () => {
    expect(releaseId(new Date('2026-11-26T00:45:12.345Z'))).toBe('20261126-004512');
  });

  it('a release is the bundle, a sha256sum-style MANIFEST and RELEASE.json, under releases/<id>/', () => {
    const files = [
      { path: 'compose/etcd.yml', content: 'b', mode: 0o644, secret: false },
      { path: '.env', content: 'a', mode: 0o600, secret: true },
    ];
    const staged = stageFiles('/opt/t', files, { id: 'R1', createdAt: 'now', by: 'op', command: 'deploy' });
    expect(staged.map((f) => [f.remotePath, f.mode])).toEqual([
      ['/opt/t/releases/R1/compose/etcd.yml', 0o644],
      ['/opt/t/releases/R1/.env', 0o600],
      ['/opt/t/releases/R1/MANIFEST', 0o644],
      ['/opt/t/releases/R1/RELEASE.json', 0o644],
    ]);
    expect(manifestText(files)).toBe(`${sum('a')}  .env\n${sum('b')}  compose/etcd.yml\n`);
    expect(parseSums(`${manifestText(files)}${sum('c')}  ./x y.txt\n`)).toEqual(new Map([['.env', sum('a')], ['compose/etcd.yml', sum('b')], ['x y.txt', sum('c')]]));
  });

  it('activation is one root script with the base dir and id as arguments', () => {
    const cmd = render(activateCommand('/opt/t', 'R2'), { sudo: true });
    expect(cmd.startsWith("sudo -n -- sh -c 'set -e")).toBe(true);
    expect(cmd.endsWith(" sh /opt/t R2")).toBe(true);
  });

  it('the list names every release, its meta and the live one; rollback goes to the one before it', () => {
    const out = '@@ R1\n{"id":"R1","createdAt":"t1","by":"a","command":"deploy"}\n@@ R2\n{"id":"R2","createdAt":"t2","by":"b","command":"deploy"}\n@@ R3\n\n@@current releases/R2\n';
    const rs = parseList(out);
    expect(rs.map((r) => [r.id, r.current, r.meta?.by ?? null])).toEqual([['R1', false, 'a'], ['R2', true, 'b'], ['R3', false, null]]);
    expect(previousRelease(rs)).toBe('R1');
    expect(previousRelease(parseList('@@ R1\n{}\n@@current releases/R1\n'))).toBeUndefined();
  });
});

describe('what a node runs against a release', () => {
  const stdout = [
    '@@current releases/R1',
    '@@target',
    `${sum('env2')}  .env`,
    `${sum('cfg')}  config/haproxy/haproxy.cfg`,
    `${sum('new')}  compose/new.yml`,
    '@@live',
    `${sum('env1')}  .env`,
    `${sum('cfg')}  config/haproxy/haproxy.cfg`,
    `${sum('old')}  compose/old.yml`,
    '@@patroni',
    Buffer.from('bootstrap:\n  dcs:\n    ttl: 20\n').toString('base64'),
    '@@hash',
    `backend ${'a'.repeat(64)}`,
    `haproxy ${'b'.repeat(64)}`,
    `redis ${'c'.repeat(64)}`,
    '@@running',
    `backend ${'0'.repeat(64)} running`,
    `haproxy ${'b'.repeat(64)} running`,
    `redis ${'c'.repeat(64)} exited`,
    '',
  ].join('\n');

  it('parses the sections; a service is recreated when its hash differs or it does not run', () => {
    const insp = parseInspection(stdout);
    expect(insp.current).toBe('R1');
    expect(insp.patroniYml).toContain('ttl: 20');
    const c = nodeChanges('ash-1', insp);
    expect(c).toMatchObject({ changedFiles: ['.env'], addedFiles: ['compose/new.yml'], removedFiles: ['compose/old.yml'], recreate: ['backend', 'redis'] });
    expect(hasChanges(c)).toBe(true);
    expect(describeNode(c)).toBe('files ~.env +compose/new.yml -compose/old.yml; recreate backend, redis');
  });

  it('a changed config file of a running service is reloaded in place, not recreated', () => {
    const insp = parseInspection(stdout.replace(`${sum('cfg')}  config/haproxy/haproxy.cfg`, `${sum('cfg2')}  config/haproxy/haproxy.cfg`)); // the release's copy differs
    const c = nodeChanges('ash-1', insp);
    expect(c.reload.map((r) => r.service)).toEqual(['haproxy']);
    expect(describeNode(c)).toContain('reload (SIGUSR2) haproxy');
  });

  it('a service the release no longer has on the node is an orphan to remove; rollback uses the previous compose files', () => {
    const insp = parseInspection(stdout.replace(`redis ${'c'.repeat(64)}\n@@running`, '@@running'));
    const c = nodeChanges('ash-1', insp);
    expect(c.orphans).toEqual(['redis']);
    expect(c.recreate).toEqual(['backend']);
    expect(describeNode(c)).toContain('remove redis (no longer on this node)');
    expect(previousComposeFiles({ ...c, livePaths: ['compose/redis.yml', 'compose/prod/redis.yml', '.env', 'compose/backend.yml', 'compose/prod/backend.yml'] })).toEqual([
      'compose/backend.yml', 'compose/redis.yml', 'compose/prod/backend.yml', 'compose/prod/redis.yml',
    ]);
  });

  it('compose failing to read the release, not taken as "no services"', () => {
    const insp = parseInspection('@@current \n@@target\n@@live\n@@hash\nrequired variable BACKEND_IMAGE is missing a value\n@@hash-failed\n@@running\n');
    expect(insp.current).toBeNull();
    expect(insp.composeError).toBe('required variable BACKEND_IMAGE is missing a value');
  });

  it('the inspect command passes each compose file from the release dir', () => {
    const cmd = render(inspectCommand('/opt/t', 'R2', ['compose/etcd.yml', 'compose/patroni.yml']));
    expect(cmd.endsWith("sh /opt/t R2 compose/etcd.yml compose/patroni.yml")).toBe(true);
    // before any upload: the live tree against the manifest on stdin
    expect(render(inspectCommand('/opt/t', null, ['compose/etcd.yml'])).endsWith("sh /opt/t '' compose/etcd.yml")).toBe(true);
    expect(parseFiles(`@@file .env\n${Buffer.from('A=1\n').toString('base64')}\n@@file gone\n\n`)).toEqual(new Map([['.env', 'A=1\n'], ['gone', '']]));
  });
});

describe('Patroni cluster config', () => {
  const yml = 'bootstrap:\n  dcs:\n    ttl: 20\n    loop_wait: 5\n    postgresql:\n      use_pg_rewind: true\n      parameters:\n        max_connections: 200\n        wal_level: logical\n        hot_standby: "on"\n';
  it('only what differs is patched; on/true and 150/"150" are equal', () => {
    const current = { ttl: 20, loop_wait: 10, postgresql: { use_pg_rewind: true, parameters: { max_connections: '150', wal_level: 'logical', hot_standby: true } }, extra: 1 };
    const patch = dcsPatch(desiredDcs(yml), current);
    expect(patch).toEqual({ loop_wait: 5, postgresql: { parameters: { max_connections: 200 } } });
    expect(describePatch(patch, current)).toEqual(['loop_wait: 10 → 5', 'postgresql.parameters.max_connections: 150 → 200']);
    expect(changedParameters(patch)).toEqual(['max_connections']);
    expect(dcsPatch(desiredDcs(yml), { ...current, loop_wait: 5, postgresql: { ...current.postgresql, parameters: { ...current.postgresql.parameters, max_connections: 200 } } })).toEqual({});
  });
});

describe('file diffs', () => {
  it('a unified diff with context; deletions before additions', () => {
    expect(unifiedDiff('f', 'a\nb\nc\nd\n', 'a\nB\nc\nd\ne\n')).toBe('--- a/f\n+++ b/f\n@@ -1,4 +1,5 @@\n a\n-b\n+B\n c\n d\n+e\n');
    expect(unifiedDiff('f', undefined, 'x\n')).toBe('--- /dev/null\n+++ b/f\n@@ -0,0 +1,1 @@\n+x\n');
    expect(unifiedDiff('f', 'same\n', 'same\n')).toBe('');
  });

  it('secrets never appear: an unchanged secret is <secret>, a changed one says so, settings stay readable', () => {
    const [a, b] = redactEnvPair('POSTGRES_PASSWORD=old\nJWT_SECRET=j\nSITE_URL=x\n', 'POSTGRES_PASSWORD=new\nJWT_SECRET=j\nSITE_URL=y\n');
    expect(a).toBe('POSTGRES_PASSWORD=<secret>\nJWT_SECRET=<secret>\nSITE_URL=x\n');
    expect(b).toBe('POSTGRES_PASSWORD=<secret: changed>\nJWT_SECRET=<secret>\nSITE_URL=y\n');
    expect(unifiedDiff('.env', a, b)).not.toMatch(/old|new|=j\b/);
  });
});
