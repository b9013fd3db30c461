import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../../src/errors.js';
import { loadConfig, readInventory, resolveEnvironment } from '../../src/config/load.js';
import { REPO } from '../helpers/cli.js';
import { validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

function problemsOf(doc: unknown): string[] {
  try {
    readInventory(writeInventory(tmp.dir, doc));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the inventory to be rejected');
}

describe('inventory validation', () => {
  it('accepts the shipped twincigo.yml with the dev nodes and roles of the design', () => {
    // the shipped file alone: a working tree's lab inventories beside it (twincigo.lab*.yml) are not shipped
    copyFileSync(`${REPO}twincigo.yml`, join(tmp.dir, 'twincigo.yml'));
    const inv = readInventory(join(tmp.dir, 'twincigo.yml'));
    const dev = resolveEnvironment(inv, 'dev');
    expect(dev.nodes.map((n) => [n.name, n.host])).toEqual([
      ['ubuntu-8gb-hil-1', '5.78.103.224'],
      ['ubuntu-8gb-ash-1', '5.161.110.205'],
      ['ubuntu-8gb-ash-2', '178.156.186.10'],
    ]);
    expect(dev.initialLeader).toBe('ubuntu-8gb-hil-1');
    expect(dev.nodes[0]!.roles).toContain('supabase');
    expect(dev.nodes[1]!.roles).toContain('backend');
    expect(dev.nodes[2]!.roles).toContain('monitoring');
    // prod's hosts are placeholders until the CCX33 nodes exist: using prod says so, dev is unaffected
    expect(() => resolveEnvironment(inv, 'prod')).toThrow(/fill in the prod hosts: environments\.prod\.nodes\[0\]\.host, .*nodes\[2\]\.host still hold a placeholder/);
    expect(dev.baseDir).toBe('/opt/twincigo-crm');
  });

  it('prod: MinIO (storage) only beside Supabase; nodeSize read in GiB', () => {
    const doc = validInventory();
    doc.environments.dev.profile = 'prod';
    doc.environments.dev.nodes[0].roles = doc.environments.dev.nodes[0].roles.filter((r: string) => r !== 'storage');
    doc.environments.dev.nodes[1].roles.push('storage');
    expect(problemsOf(doc)).toContainEqual(expect.stringMatching(/^environments\.dev\.nodes\[1\]\.roles: in prod, "storage" \(MinIO\) goes on the node with "supabase"/));
    const ok = validInventory();
    ok.environments.dev.nodeSize = { cpus: 2, memoryGiB: 7.5 };
    expect(resolveEnvironment(readInventory(writeInventory(tmp.dir, ok)), 'dev').nodeSize).toEqual({ cpus: 2, memoryMiB: 7680 });
  });

  it('addresses: host is an IP or an RFC 1123 name, the cluster address always an IP, no duplicates', () => {
    const doc = validInventory();
    doc.environments.dev.nodes[0].host = '127.0.0.3; touch /tmp/pwned';
    doc.environments.dev.nodes[1].privateAddress = 'ash-1.internal';
    doc.environments.dev.nodes[2].host = 'bad_name.example';
    expect(problemsOf(doc)).toEqual([
      'environments.dev.nodes[0].host: must be an IP address or a host name (RFC 1123: letters, digits, hyphens, dots), not "127.0.0.3; touch /tmp/pwned"',
      'environments.dev.nodes[1].privateAddress: must be the IPv4 address the other nodes reach this node at (etcd, Patroni, pg_hba, HAProxy and the firewall use it), not "ash-1.internal"',
      'environments.dev.nodes[2].host: must be an IP address or a host name (RFC 1123: letters, digits, hyphens, dots), not "bad_name.example"',
    ]);
    const named = validInventory();
    named.environments.dev.nodes[0].host = 'hil-1.example.com';
    named.environments.dev.nodes[2].privateAddress = '10.0.0.2';
    const file = writeInventory(tmp.dir, named, 'named.yml');
    let err: unknown;
    try {
      resolveEnvironment(readInventory(file), 'dev');
    } catch (e) {
      err = e;
    }
    expect((err as { problems: string[] }).problems).toEqual([
      'environments.dev.nodes[0].host: "hil-1.example.com" is a name, and the cluster address (etcd, Patroni, pg_hba, HAProxy, firewall) must be an IP — add privateAddress: <the IP the other nodes reach hil-1 at>',
      "environments.dev.nodes[2]: cluster address 10.0.0.2 is also nodes[1]'s — every node needs its own",
    ]);
    named.environments.dev.nodes[0].privateAddress = '10.0.0.1';
    named.environments.dev.nodes[2].privateAddress = '10.0.0.3';
    const ok = resolveEnvironment(readInventory(writeInventory(tmp.dir, named, 'named.yml')), 'dev');
    expect(ok.nodes.map((n) => [n.host, n.privateAddress])).toEqual([['hil-1.example.com', '10.0.0.1'], ['10.0.0.2', '10.0.0.2'], ['10.0.0.3', '10.0.0.3']]);
  });

  it('baseDir reaches scripts and unit files: plain absolute paths only; odd keys are quoted in paths', () => {
    const doc = validInventory();
    doc.baseDir = '/opt/x; reboot';
    doc.environments.dev.nodes[0]['bad\nkey'] = 1;
    expect(problemsOf(doc)).toEqual([
      'baseDir: must be an absolute path of letters, digits, . _ - and /, e.g. /opt/twincigo-crm',
      'environments.dev.nodes[0]["bad\\nkey"]: unknown key',
    ]);
  });

  it('synchronous: defaults from the profile; a cluster where every replica is nosync cannot be synchronous', () => {
    const doc = validInventory();
    doc.environments.prod = { ...structuredClone(doc.environments.dev), profile: 'prod' };
    const file = writeInventory(tmp.dir, doc, 'sync.yml');
    expect(resolveEnvironment(readInventory(file), 'dev').synchronous).toBe(false);
    expect(resolveEnvironment(readInventory(file), 'prod').synchronous).toBe(true);
    doc.environments.prod.nodes[1].nosync = true;
    doc.environments.prod.nodes[2].nosync = true;
    const bad = writeInventory(tmp.dir, doc, 'sync.yml');
    expect(() => resolveEnvironment(readInventory(bad), 'prod')).toThrow(/synchronous replication needs a replica that may be the synchronous standby/);
    doc.environments.prod.synchronous = false;
    expect(resolveEnvironment(readInventory(writeInventory(tmp.dir, doc, 'sync.yml')), 'prod').nodes.map((n) => n.nosync)).toEqual([false, true, true]);
  });

  it('reports an unknown key with its exact path', () => {
    const doc = validInventory();
    doc.environments.dev.nodes[1].hots = 'x';
    expect(problemsOf(doc)).toEqual(['environments.dev.nodes[1].hots: unknown key']);
  });

  it('reports wrong types and bad values with their paths', () => {
    const doc = validInventory();
    doc.environments.dev.nodes[1].host = 42;
    doc.environments.dev.nodes[2].ssh = { port: 'twenty-two' };
    doc.environments.dev.nodes[0].roles.push('webserver');
    const problems = problemsOf(doc);
    expect(problems).toContain('environments.dev.nodes[1].host: must be string');
    expect(problems).toContain('environments.dev.nodes[2].ssh.port: must be number');
    expect(problems.find((p) => p.startsWith('environments.dev.nodes[0].roles[5]: must be one of'))).toBeTruthy();
  });

  it('reports a missing required key', () => {
    const doc = validInventory();
    delete doc.environments.dev.nodes[0].host;
    expect(problemsOf(doc)).toContain('environments.dev.nodes[0].host: is required');
  });

  it('reports duplicate names and hosts', () => {
    const doc = validInventory();
    doc.environments.dev.nodes[2].name = 'hil-1';
    doc.environments.dev.nodes[1].host = '10.0.0.1';
    const problems = problemsOf(doc);
    expect(problems).toContain('environments.dev.nodes[2].name: duplicate node name "hil-1" (also nodes[0])');
    expect(problems).toContain('environments.dev.nodes[1].host: duplicate host "10.0.0.1" (also nodes[0])');
  });

  it('requires three etcd and patroni members and a node for every role', () => {
    const doc = validInventory();
    doc.environments.dev.nodes[2].roles = ['haproxy', 'monitoring'];
    doc.environments.dev.nodes[1].roles = ['etcd', 'patroni', 'haproxy', 'redis'];
    const problems = problemsOf(doc);
    expect(problems).toContain('environments.dev.nodes: role "etcd" needs at least 3 nodes, found 2');
    expect(problems).toContain('environments.dev.nodes: role "patroni" needs at least 3 nodes, found 2');
    expect(problems).toContain(
      'environments.dev.nodes: no node has role "backend" (give it to a node, or list it in environments.dev.skipRoles)',
    );
  });

  it('lets an environment skip a role explicitly', () => {
    const doc = validInventory();
    doc.environments.dev.nodes[0].roles = ['etcd', 'patroni', 'haproxy', 'supabase'];
    doc.environments.dev.skipRoles = ['storage'];
    expect(() => readInventory(writeInventory(tmp.dir, doc))).not.toThrow();
  });

  it('reports every problem at once, across environments', () => {
    const doc = validInventory();
    doc.environments.prod = structuredClone(doc.environments.dev);
    doc.environments.dev.nodes[0].bogus = true;
    doc.environments.dev.nodes[1].name = 'hil-1';
    doc.environments.prod.nodes[2].host = ['a'];
    doc.environments.prod.initialLeader = 'nope';
    doc.extra = 1;
    const problems = problemsOf(doc);
    expect(problems).toEqual(
      expect.arrayContaining([
        'extra: unknown key',
        'environments.dev.nodes[0].bogus: unknown key',
        'environments.prod.nodes[2].host: must be string',
        'environments.dev.nodes[1].name: duplicate node name "hil-1" (also nodes[0])',
        'environments.prod.initialLeader: no node named "nope"',
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it('checks initialLeader carries patroni', () => {
    const doc = validInventory();
    doc.environments.dev.nodes.push({ name: 'extra', host: '10.0.0.9', roles: ['redis'] });
    doc.environments.dev.initialLeader = 'extra';
    expect(problemsOf(doc)).toEqual(['environments.dev.initialLeader: node "extra" does not have role "patroni"']);
  });

  it('reports YAML syntax errors with line and column', () => {
    const problems = problemsOf('version: 1\nenvironments:\n  dev: [\n');
    expect(problems[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('rejects duplicate YAML keys', () => {
    const problems = problemsOf('version: 1\nversion: 1\nenvironments: {}\n');
    expect(problems[0]).toMatch(/line 2, column 1: .*[Mm]ap keys must be unique/);
  });
});

describe('environment and node selection', () => {
  it('resolves defaults and inherited ssh settings', () => {
    const doc = validInventory();
    doc.ssh = { user: 'ops', port: 2222 };
    doc.environments.dev.ssh = { port: 22 };
    doc.environments.dev.nodes[1].ssh = { user: 'root' };
    const inv = readInventory(writeInventory(tmp.dir, doc));
    const env = resolveEnvironment(inv, 'dev');
    expect(env.nodes[0]!.ssh).toEqual({ user: 'ops', port: 22 });
    expect(env.nodes[1]!.ssh).toEqual({ user: 'root', port: 22 });
    expect(env.envFile).toBe(`${tmp.dir}/env/.env.dev`);
    expect(env.initialLeader).toBe('hil-1');
    expect(env.nodes[0]!.privateAddress).toBe('10.0.0.1');
  });

  it('an unknown environment names the ones that exist', () => {
    const file = writeInventory(tmp.dir, validInventory());
    expect(() => loadConfig({ configPath: file, env: 'staging' })).toThrow(UsageError);
    try {
      loadConfig({ configPath: file, env: 'staging' });
    } catch (err) {
      expect((err as UsageError).hints.join()).toContain('dev');
    }
  });

  it('filters nodes by name and glob; a filter that matches nothing is an error', () => {
    const file = writeInventory(tmp.dir, validInventory());
    expect(loadConfig({ configPath: file, env: 'dev', nodes: 'ash-*' }).nodes.map((n) => n.name)).toEqual(['ash-1', 'ash-2']);
    expect(loadConfig({ configPath: file, env: 'dev', nodes: 'ash-2,hil-1' }).nodes.map((n) => n.name)).toEqual(['hil-1', 'ash-2']);
    expect(() => loadConfig({ configPath: file, env: 'dev', nodes: 'ash-1,ash-9' })).toThrow(/"ash-9" matches no node of environment dev/);
  });
});
