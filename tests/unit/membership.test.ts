import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readInventory, resolveEnvironment } from '../../src/config/load.js';
import { removeNodeEntry, setNodeAddress } from '../../src/config/inventory-edit.js';
import { removalProblems } from '../../src/membership/remove.js';
import { etcdReplacement, parseMemberList, peerUrl, quorumOf } from '../../src/membership/etcd-members.js';
import { withNodeAddress } from '../../src/membership/replacement.js';
import { render } from '../../src/remote/shell.js';
import { etcdMemberAddCommand, etcdMemberListCommand } from '../../src/remote/etcd.js';
import { renderAll } from '../../src/stack/bundle.js';
import { CONFIG_RELOAD } from '../../src/stack/reload.js';
import { CATCH_UP_MARK, CLONE_SCRIPT } from '../../src/stack/clone-config.js';
import { deadEntries, parseSwarmNodes } from '../../src/swarm/replace-node.js';
import { completeEnvText, validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

const LIST = [
  '8e9e05c52164694d, started, hil-1, http://10.0.0.1:2380, http://10.0.0.1:2379, false',
  '91bc3c398fb3c146, started, ash-1, http://10.0.0.2:2380, http://10.0.0.2:2379, false',
  'fd422379fda50e48, started, ash-2, http://10.0.0.3:2380, http://10.0.0.3:2379, false',
].join('\n');

describe('etcd membership of a replacement', () => {
  const members = parseMemberList(LIST);

  it('reads etcdctl member list (hex ids, status, urls)', () => {
    expect(members).toHaveLength(3);
    expect(members[2]).toEqual({ id: 'fd422379fda50e48', started: true, name: 'ash-2', peerUrls: ['http://10.0.0.3:2380'], clientUrls: ['http://10.0.0.3:2379'] });
    // a member announced but not started has no name yet
    expect(parseMemberList('a1b2c3d4e5f60718, unstarted, , http://10.0.0.9:2380, , false')[0]).toMatchObject({ started: false, name: '', peerUrls: ['http://10.0.0.9:2380'], clientUrls: [] });
    expect(() => parseMemberList('Error: context deadline exceeded')).toThrow(/cannot read/);
  });

  it('a bare machine at a new address: the dead member out, the new one in', () => {
    const p = etcdReplacement(members, 'ash-2', '10.0.0.9', false);
    expect(p.remove.map((m) => m.id)).toEqual(['fd422379fda50e48']);
    expect(p.add).toBe(true);
  });

  it('a bare machine at the same address: the dead member (same peer URL, no data left) out and in again', () => {
    const p = etcdReplacement(members, 'ash-2', '10.0.0.3', false);
    expect(p.remove.map((m) => m.id)).toEqual(['fd422379fda50e48']);
    expect(p.add).toBe(true);
  });

  it('a re-run: an announced member is kept, a joined one too', () => {
    const announced = parseMemberList(`${LIST.split('\n').slice(0, 2).join('\n')}\n0123456789abcdef, unstarted, , http://10.0.0.9:2380, , false`);
    expect(etcdReplacement(announced, 'ash-2', '10.0.0.9', false)).toMatchObject({ remove: [], add: false });
    const joined = parseMemberList(`${LIST.split('\n').slice(0, 2).join('\n')}\n0123456789abcdef, started, ash-2, http://10.0.0.9:2380, http://10.0.0.9:2379, false`);
    expect(etcdReplacement(joined, 'ash-2', '10.0.0.9', true)).toMatchObject({ remove: [], add: false });
  });

  it('refuses an address another member has, and a machine with etcd data of something else', () => {
    expect(() => etcdReplacement(members, 'ash-2', '10.0.0.2', false)).toThrow(/ash-1 already has the peer address/);
    expect(() => etcdReplacement(members, 'ash-2', '10.0.0.9', true)).toThrow(/has etcd data, but etcd has no started member ash-2/);
  });

  it('commands run etcdctl in the node\'s etcd container against its loopback', () => {
    expect(render(etcdMemberListCommand())).toBe('docker exec twincigo-etcd-1 etcdctl --endpoints=http://127.0.0.1:2379 --command-timeout=10s member list --write-out=simple --hex');
    expect(render(etcdMemberAddCommand('ash-2', peerUrl('10.0.0.9')))).toContain('member add ash-2 --peer-urls=http://10.0.0.9:2380');
    expect(peerUrl('fd00::9')).toBe('http://[fd00::9]:2380');
    expect([quorumOf(2), quorumOf(3), quorumOf(5)]).toEqual([2, 2, 3]);
  });
});

describe('Swarm entries of a dead node', () => {
  const nodes = parseSwarmNodes([
    'aaa\thil-1\thil-1\tready\treachable',
    'bbb\tash-2\t<no value>\tdown\tunreachable',
    'ccc\tash-2\tash-2\tready\treachable',
  ].join('\n'));
  it('by label, else by hostname; never the replacement itself, never a ready one', () => {
    expect(deadEntries(nodes, 'ash-2', 'ccc').map((n) => n.id)).toEqual(['bbb']);
    expect(deadEntries(nodes, 'hil-1', '').map((n) => n.id)).toEqual([]);
  });
});

/** The env values of a complete dev env file, as renderAll takes them. */
const values = { file: '/x', exists: true, problems: [], values: Object.fromEntries(completeEnvText('p-Kq8vT2mZ5xW9pLsXa$x').split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])) };

function dev(edit: (doc: Record<string, any>) => void = () => {}) {
  const tmp = tempDir();
  const doc = validInventory();
  edit(doc);
  const file = writeInventory(tmp.dir, doc);
  return { tmp, file, env: resolveEnvironment(readInventory(file), 'dev') };
}

describe('the environment with a replacement', () => {
  it('moves the node (host, and the private address it defaulted to), refuses a taken address', () => {
    const { env, tmp } = dev();
    try {
      const moved = withNodeAddress(env, 'ash-2', '10.0.0.9', undefined);
      expect(moved.nodes.find((n) => n.name === 'ash-2')).toMatchObject({ host: '10.0.0.9', privateAddress: '10.0.0.9' });
      expect(moved.nodes.filter((n) => n.name !== 'ash-2')).toEqual(env.nodes.filter((n) => n.name !== 'ash-2'));
      expect(withNodeAddress(env, 'ash-2', undefined, undefined)).toBe(env);
      expect(() => withNodeAddress(env, 'ash-2', '10.0.0.2', undefined)).toThrow(/ash-1 already has the address 10.0.0.2/);
      expect(() => withNodeAddress(env, 'nope', '10.0.0.9', undefined)).toThrow(/no node nope/);
    } finally {
      tmp.cleanup();
    }
  });

  it("a survivor's files change only where the moved address is: reloaded configs and etcd's initial cluster", () => {
    const { env, tmp } = dev();
    try {
      const before = renderAll(env, env.nodes, values).bundles;
      const moved = withNodeAddress(env, 'ash-2', '10.0.0.9', undefined);
      const after = renderAll(moved, moved.nodes, values).bundles;
      const reloadable = new Set(CONFIG_RELOAD.map((c) => c.file));
      for (const node of ['hil-1', 'ash-1']) {
        const was = new Map(before.find((b) => b.node === node)!.files.map((f) => [f.path, f.content]));
        const changed = after.find((b) => b.node === node)!.files.filter((f) => was.get(f.path) !== f.content).map((f) => f.path);
        expect(changed.length).toBeGreaterThan(0);
        for (const path of changed) {
          if (path === '.env') {
            const keys = (t: string) => new Map(t.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l]));
            const a = keys(was.get('.env')!);
            const b = keys(after.find((x) => x.node === node)!.files.find((f) => f.path === '.env')!.content);
            expect([...b].filter(([k, v]) => a.get(k) !== v).map(([k]) => k), node).toEqual(['ETCD_INITIAL_CLUSTER']);
          } else {
            // everything else a survivor reads in place (HUP/USR2) or that restarts no database member
            expect(reloadable.has(path) && !/etcd|patroni\.yml/.test(path) ? true : path === 'config/patroni/patroni.yml', `${node}: ${path}`).toBe(true);
          }
        }
        // pgBackRest: the replacement's certificate name is admitted by the repository host only
      }
      const repo = after.find((b) => b.node === 'ash-2')!.files.find((f) => f.path === 'config/pgbackrest-repo/pgbackrest.conf')!.content;
      expect(repo).toContain('tls-server-auth=10.0.0.9=twincigo');
    } finally {
      tmp.cleanup();
    }
  });

  it('with a repository, a new replica is cloned from the latest backup first, from the leader when that fails', () => {
    const { env, tmp } = dev();
    try {
      const b = renderAll(env, env.nodes, values).bundles.find((x) => x.node === 'ash-1')!;
      const pg = parse(b.files.find((f) => f.path === 'config/patroni/patroni.yml')!.content);
      expect(pg.postgresql.create_replica_methods).toEqual(['pgbackrest', 'basebackup']);
      expect(pg.postgresql.pgbackrest).toEqual({ command: '/etc/patroni/clone-from-backup.sh', keep_data: true, no_params: true });
      // only a restored copy replays from the archive, for its catch-up (the other replicas have no restore_command: a failover never waits on the repository)
      expect(pg.postgresql.recovery_conf).toBeUndefined();
      const script = b.files.find((f) => f.path === CLONE_SCRIPT)!;
      expect(script.mode).toBe(0o755);
      expect(script.content).toMatch(/clone-from-leader[\s\S]*exit 1[\s\S]*pgbackrest --stanza=twincigo --delta --type=standby restore\n/);
      // marked: node replace/add drop it once the replica streams (a restored copy promoted later would wait on the repository too)
      expect(script.content).toContain(`restore_command = 'timeout 30 pgbackrest --stanza=twincigo --io-timeout=5 archive-get %f %p' ${CATCH_UP_MARK}" >> /var/lib/postgresql/data/pgdata/postgresql.base.conf`);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('the inventory takes the new address', () => {
  it('edits the node in place, comments and layout kept; reads back as meant', () => {
    const tmp = tempDir();
    try {
      const file = writeInventory(tmp.dir, [
        'version: 1',
        '# our dev cluster',
        'environments:',
        '  dev:',
        '    nodes:',
        '      - name: hil-1   # us-west',
        '        host: 10.0.0.1',
        '        roles: [etcd, patroni, haproxy, supabase, storage]',
        '      - name: ash-2',
        '        host: 10.0.0.3',
        '        roles: [etcd, patroni, haproxy, monitoring, backup]',
        '',
      ].join('\n'));
      const r = setNodeAddress(file, { env: 'dev', node: 'ash-2', host: '10.0.0.9', privateAddress: '10.0.0.9' });
      expect(r).toMatchObject({ edited: true, file, lines: ['host: 10.0.0.3 → 10.0.0.9'] });
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('# our dev cluster');
      expect(text).toContain('- name: hil-1 # us-west');
      expect(parse(text).environments.dev.nodes[1]).toEqual({ name: 'ash-2', host: '10.0.0.9', roles: ['etcd', 'patroni', 'haproxy', 'monitoring', 'backup'] });
      expect(setNodeAddress(file, { env: 'dev', node: 'ash-2', host: '10.0.0.9', privateAddress: '10.0.0.9' })).toMatchObject({ edited: true, lines: [] });
      const none = setNodeAddress(file, { env: 'prod', node: 'ash-2', host: '10.0.0.9', privateAddress: '10.0.0.9' });
      expect(none).toMatchObject({ edited: false, lines: ['environments.prod.nodes[name=ash-2].host: 10.0.0.9', expect.any(String)] });
    } finally {
      tmp.cleanup();
    }
  });

  it("finds an environment in a side file (<inventory>.<env>.yml, as the lab's)", () => {
    const tmp = tempDir();
    try {
      const main = writeInventory(tmp.dir, { version: 1, environments: {} });
      const side = writeInventory(tmp.dir, { version: 1, environments: { lab: { nodes: [{ name: 'a', host: '1.1.1.1', roles: ['etcd'] }] } } }, 'twincigo.lab.yml');
      expect(setNodeAddress(main, { env: 'lab', node: 'a', host: '1.1.1.9', privateAddress: '1.1.1.9' })).toMatchObject({ edited: true, file: side });
      expect(parse(readFileSync(side, 'utf8')).environments.lab.nodes[0].host).toBe('1.1.1.9');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('node remove: what the cluster must keep', () => {
  it('at least three nodes, an odd etcd of three or more, every role on another node', () => {
    const three = dev();
    const four = dev((doc) => doc.environments.dev.nodes.push({ name: 'fsn-1', host: '10.0.0.4', roles: ['patroni', 'haproxy'] }));
    try {
      expect(removalProblems(three.env, 'ash-1')).toEqual([
        'dev would have 2 nodes: node remove keeps at least three',
        'etcd would have 2 members: keep an odd number, at least three (add a node with the etcd role first, or remove one that has none)',
        'ash-1 is the only node with roles backend, redis: give them to another node first (inventory + deploy)',
      ]);
      expect(removalProblems(four.env, 'fsn-1')).toEqual([]);
      expect(removalProblems(four.env, 'ash-2')).toEqual([
        'etcd would have 2 members: keep an odd number, at least three (add a node with the etcd role first, or remove one that has none)',
        'ash-2 is the only node with roles monitoring, backup: give them to another node first (inventory + deploy)',
      ]);
      expect(removalProblems(four.env, 'nope')).toEqual(['no node nope in dev']);
    } finally {
      three.tmp.cleanup();
      four.tmp.cleanup();
    }
  });

  it("the inventory loses the node's entry; a first leader naming it moves to the next database node", () => {
    const tmp = tempDir();
    try {
      const doc = validInventory();
      doc.environments.dev.initialLeader = 'hil-1';
      doc.environments.dev.nodes.unshift({ name: 'fsn-1', host: '10.0.0.4', roles: ['haproxy'] });
      const file = writeInventory(tmp.dir, doc);
      expect(removeNodeEntry(file, 'dev', 'hil-1')).toMatchObject({ edited: true, lines: ['removed hil-1', 'initialLeader: hil-1 → ash-1'] });
      const after = parse(readFileSync(file, 'utf8')).environments.dev;
      expect(after.nodes.map((n: any) => n.name)).toEqual(['fsn-1', 'ash-1', 'ash-2']);
      expect(after.initialLeader).toBe('ash-1');
      expect(removeNodeEntry(file, 'dev', 'hil-1')).toMatchObject({ edited: false, lines: ['delete environments.dev.nodes[name=hil-1]'] });
    } finally {
      tmp.cleanup();
    }
  });
});
