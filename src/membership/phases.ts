import type { NodeConfig } from '../config/model.js';
import type { Phase } from '../engine/types.js';
import { TwincigoError } from '../errors.js';
import { etcdQuorum } from '../cluster/health.js';
import { isLeader, patroniMembers, patroniStreaming } from '../cluster/patroni.js';
import { notYet, ready, waitUntil } from '../cluster/wait.js';
import { ServiceError, upServices } from '../cluster/services.js';
import { configHashesCommand, containerName } from '../remote/compose.js';
import { cutArchivePushesCommand } from '../remote/pgbackrest.js';
import { etcdDeleteCommand, etcdMemberAddCommand, etcdMemberListCommand, etcdMemberRemoveCommand } from '../remote/etcd.js';
import { pipe, redirect, root, run as plain } from '../remote/shell.js';
import type { SshConnection } from '../ssh/connection.js';
import { patroniScope } from '../stack/patroni-config.js';
import { CONFIG_RELOAD, reloadCommand } from '../stack/reload.js';
import { readSwarmInfo } from '../swarm/form.js';
import { removeDeadNode } from '../swarm/replace-node.js';
import { usesSwarm } from '../swarm/services.js';
import { changesOf, isConverged, noteChange, type BootstrapRun } from '../bootstrap/bootstrap-run.js';
import { WAITS, conn, files, has, type Ctx } from '../bootstrap/steps.js';
import { CLONE_FROM_LEADER } from '../stack/clone-config.js';
import { endCatchUp } from '../bootstrap/phases/patroni.js';
import { etcdReplacement, parseMemberList, peerUrl } from './etcd-members.js';
import { replacedNode, survivorsOf, type Replacement } from './replacement.js';

/** How long node replace waits for Patroni to fail over from a dead leader (its ttl, plus a loop or two). */
export const FAILOVER_WAIT_MS = 90_000;

const etcdNodes = (nodes: readonly NodeConfig[]) => nodes.filter(has('etcd'));

/** A member's /health from a survivor: does the dead member still answer? (it must not: node replace replaces dead nodes) */
async function answers(c: SshConnection, url: string): Promise<boolean> {
  return (await c.exec(plain('curl', '-fsS', '--max-time', '2', '-o', '/dev/null', url), { timeoutMs: 10_000 })).code === 0;
}

/**
 * Read-only, before anything changes: a Patroni leader on a survivor (after a dead leader, Patroni's
 * failover first — waited for) and every survivor's etcd member healthy (their quorum).
 */
export function survivorsPhase(run: BootstrapRun, r: Replacement): Phase<NodeConfig>[] {
  const survivors = survivorsOf(run.env, r);
  return [{
    title: `Survivors (${survivors.map((n) => n.name).join(', ')})`,
    then: [
      {
        title: 'a Patroni leader on a survivor',
        timeoutMs: FAILOVER_WAIT_MS + 20_000,
        run: async ({ signal, log }) => {
          const leader = await waitUntil('a Patroni leader on a survivor', async () => {
            for (const n of survivors.filter(has('patroni'))) {
              try {
                const ms = await patroniMembers(await conn(run, n));
                const l = ms.find(isLeader);
                if (!l) return notYet('no leader yet');
                if (l.name === r.name) return notYet(`${r.name} still holds the leader key (Patroni fails over once it expires)`);
                return ready(l.name);
              } catch {
                /* ask the next survivor */
              }
            }
            return notYet('no survivor\'s Patroni answered');
          }, { timeoutMs: FAILOVER_WAIT_MS, intervalMs: 1000, signal, log });
          return `leader ${leader}`;
        },
      },
      {
        title: "etcd: every survivor's member healthy",
        timeoutMs: 30_000,
        run: async () => {
          const members = etcdNodes(survivors);
          const check = await etcdQuorum(await conn(run, members[0]!), members);
          if (!check.ready) throw new TwincigoError(`etcd: ${check.why}`, undefined, ['a replacement needs the survivors\' quorum: bring their etcd back first (twincigo status)']);
          return check.value;
        },
      },
    ],
  }];
}

/**
 * The dead node out of every membership, before its replacement joins: its etcd member removed and
 * the new one announced (quorum checked after each), its Patroni key (when Patroni still lists it)
 * deleted, its Swarm entry removed. A member that still answers is not dead: refused.
 */
export function membershipPhase(run: BootstrapRun, r: Replacement): Phase<NodeConfig>[] {
  const survivors = survivorsOf(run.env, r);
  const survivorEtcd = etcdNodes(survivors);
  const via = () => conn(run, survivorEtcd[0]!);
  const fresh = () => run.facts.get(r.name)!.facts;
  const quorum = (signal: AbortSignal, log: (s: string) => void) =>
    via().then((c) => waitUntil('etcd quorum of the survivors', () => etcdQuorum(c, survivorEtcd), { timeoutMs: WAITS.etcd * 1000, intervalMs: 500, signal, log }));
  const steps: NonNullable<Phase<NodeConfig>['then']> = [];
  if (replacedNode(run.env, r).roles.includes('etcd')) {
    steps.push({
      title: 'etcd: the dead member out, the new one announced (quorum checked after each)',
      timeoutMs: (WAITS.etcd * 2 + 60) * 1000,
      run: async ({ signal, log }) => {
        const c = await via();
        const members = parseMemberList((await c.run(etcdMemberListCommand(), { timeoutMs: 20_000 })).stdout);
        const joined = fresh().volumes.some((v) => v.endsWith('_etcd-data'));
        const plan = etcdReplacement(members, r.name, r.address, joined);
        for (const m of plan.remove) {
          const alive = m.started && m.clientUrls[0] ? await answers(c, `${m.clientUrls[0]}/health`) : false;
          if (alive) throw new TwincigoError(`etcd member ${m.name} (${m.clientUrls[0]}) still answers: ${r.name} is not dead`, undefined, [`node replace replaces a dead node: stop ${r.name}'s old machine first`]);
        }
        for (const m of plan.remove) {
          await c.run(etcdMemberRemoveCommand(m.id), { timeoutMs: 30_000 });
          log(`etcd: removed member ${m.id}${m.name ? ` (${m.name})` : ''}`);
          await quorum(signal, log);
        }
        if (plan.add) {
          await c.run(etcdMemberAddCommand(r.name, peerUrl(r.address)), { timeoutMs: 30_000 });
          log(`etcd: announced ${r.name} at ${peerUrl(r.address)}`);
          await quorum(signal, log);
        }
        return plan.why;
      },
    });
  }
  if (replacedNode(run.env, r).roles.includes('patroni')) {
    steps.push({
      title: "Patroni: the dead member's key",
      timeoutMs: 60_000,
      run: async () => {
        if (fresh().ours.get('patroni') === 'running') return `${r.name}'s replacement runs Patroni already`;
        const c = await via();
        const listed = (await patroniMembers(await conn(run, survivors.find(has('patroni'))!))).find((m) => m.name === r.name);
        if (!listed) return `Patroni no longer lists ${r.name}`;
        if (await answers(c, `http://${r.oldAddress.includes(':') ? `[${r.oldAddress}]` : r.oldAddress}:8008/liveness`)) {
          throw new TwincigoError(`Patroni on ${r.name} (${r.oldAddress}) still answers: it is not dead`, undefined, [`node replace replaces a dead node: stop ${r.name}'s old machine first`]);
        }
        await c.run(etcdDeleteCommand(`/service/${patroniScope(run.env)}/members/${r.name}`), { timeoutMs: 20_000 });
        return `removed ${r.name}'s stale member key (state ${listed.state})`;
      },
    });
  }
  if (usesSwarm(run.env)) {
    steps.push({
      title: "Swarm: the dead node's entry removed (demoted, then removed)",
      timeoutMs: 180_000,
      run: async ({ log }) => {
        const info = await readSwarmInfo(await conn(run, replacedNode(run.env, r)));
        return removeDeadNode(await conn(run, survivors[0]!), r.name, info.state === 'active' ? info.nodeId : '', log);
      },
    });
  }
  return steps.length ? [{ title: `Membership: ${r.name} out, its replacement announced`, then: steps }] : [];
}

/**
 * The replacement's etcd member joins the running cluster (`--initial-cluster-state existing`, for
 * this start only: etcd reads it only with an empty data dir) and every member is healthy again.
 * The etcd phase after it recreates the member from the rendered files (a restart with data).
 */
export function etcdJoinPhase(run: BootstrapRun, r: Replacement): Phase<NodeConfig>[] {
  const node = replacedNode(run.env, r);
  if (!node.roles.includes('etcd')) return [];
  const all = etcdNodes(run.env.nodes);
  return [{
    title: `etcd: ${r.name} joins the cluster`,
    nodes: [node],
    steps: [{
      title: 'compose up etcd (initial-cluster-state existing)',
      timeoutMs: 240_000,
      skip: () => (run.facts.get(r.name)!.facts.ours.get('etcd') === 'running' ? 'a member already' : false),
      run: async ({ node: n, signal }: Ctx) => {
        const { changed } = await upServices(await conn(run, n), run.env.baseDir, files(run, n), ['etcd'], { signal, env: { ETCD_INITIAL_CLUSTER_STATE: 'existing' } });
        for (const name of changed) noteChange(run, n.name, { kind: 'started', container: name });
        return 'started';
      },
    }],
    then: [{
      title: `quorum: all ${all.length} members healthy`,
      timeoutMs: (WAITS.etcd + 20) * 1000,
      run: async ({ signal, log }) => (await conn(run, all.find((n) => n.name !== r.name)!).then((c) => waitUntil('etcd quorum', () => etcdQuorum(c, all), { timeoutMs: WAITS.etcd * 1000, intervalMs: 500, signal, log }))),
    }],
  }];
}

/** Patroni's own account of how the replica was made (`replica has been created using <method>`). */
const clonedWithCommand = () => pipe(redirect(root('docker', 'logs', containerName('patroni')), { stderr: '&1' }), plain('grep', '-o', 'replica has been created using [a-z_]*'));

const PATRONI_RELOAD = CONFIG_RELOAD.find((c) => c.service === 'patroni')!;
/** What archive_command's pgBackRest reads at each push (where the repository host is). */
const ARCHIVE_CONFIG = 'config/pgbackrest/pgbackrest.conf';

/**
 * Patroni: the survivors take the new member list (pg_hba, etcd hosts) by a reload — never a
 * restart: one would be the leader's — then the replacement is created (from the latest backup
 * when there is a repository, else from the leader) and streams.
 */
export function patroniReplacePhase(run: BootstrapRun, r: Replacement, out: { clonedWith?: string } = {}): Phase<NodeConfig>[] {
  if (!replacedNode(run.env, r).roles.includes('patroni')) return [];
  return [survivorsReloadPhase(run, r), ...repoAdmitsPhase(run, r), clonePhase(run, r, out)];
}

const uploadedNow = (run: BootstrapRun, node: string, file: string) => changesOf(run, node).some((ch) => ch.kind === 'file' && ch.path === `${run.env.baseDir}/${file}`);

/** Patroni on the nodes that stay: patroni.yml reloaded (SIGHUP) — refused when its container would have to be recreated. */
export function survivorsReloadPhase(run: BootstrapRun, r: Pick<Replacement, 'name'>): Phase<NodeConfig> {
  return {
    title: 'Patroni: the survivors reload (no restart)',
    nodes: survivorsOf(run.env, r).filter(has('patroni')),
    steps: [{
      title: 'reload patroni.yml (SIGHUP) when it changed',
      timeoutMs: 60_000,
      skip: ({ node: n }: Ctx) => (isConverged(run, n) ? 'unchanged' : false),
      run: async ({ node: n }: Ctx) => {
        const c = await conn(run, n);
        const [want = '', have = ''] = (await c.run(configHashesCommand(run.env.baseDir, files(run, n), 'patroni'), { timeoutMs: 30_000 })).stdout.trim().split('\n');
        if (want.split(' ')[1] !== have.trim()) {
          throw new TwincigoError(`Patroni's container on ${n.name} would be recreated (its settings differ from the rendered ones beyond ${r.name}'s membership): a membership change restarts no other node's Patroni`, undefined, [
            'run `twincigo deploy` when the replacement is done (it restarts members one at a time, the leader last), or first, on a cluster of three healthy nodes',
          ]);
        }
        const notes: string[] = [];
        if (uploadedNow(run, n.name, PATRONI_RELOAD.file)) {
          await c.run(reloadCommand(PATRONI_RELOAD), { timeoutMs: 60_000 });
          noteChange(run, n.name, { kind: 'reloaded', service: 'patroni', file: PATRONI_RELOAD.file });
          notes.push('reloaded');
        }
        // the repository host moved: a WAL push still waiting for the old one would hold the archive back for minutes
        if (uploadedNow(run, n.name, ARCHIVE_CONFIG)) {
          await c.run(cutArchivePushesCommand(), { timeoutMs: 30_000 });
          notes.push('WAL pushes to the old repository host cut');
        }
        return notes.join('; ') || 'patroni.yml unchanged';
      },
    }],
  };
}

/** The repository host admits the replacement's address (its certificate's CN) before the clone asks it for a backup. */
function repoAdmitsPhase(run: BootstrapRun, r: Replacement): Phase<NodeConfig>[] {
  const repoHost = survivorsOf(run.env, r).find(has('backup'));
  const entry = CONFIG_RELOAD.find((c) => c.service === 'pgbackrest-repo')!;
  if (!repoHost) return [];
  return [{
    title: "pgBackRest: the repository host admits the replacement's address",
    nodes: [repoHost],
    steps: [{
      title: 'restart the repository server when its config changed',
      timeoutMs: 120_000,
      skip: ({ node: n }: Ctx) => (isConverged(run, n) ? 'unchanged' : false),
      run: async ({ node: n }: Ctx) => {
        if (!uploadedNow(run, n.name, entry.file)) return 'unchanged';
        await (await conn(run, n)).run(reloadCommand(entry), { timeoutMs: 90_000 });
        noteChange(run, n.name, { kind: 'restarted', service: entry.service, file: entry.file });
        return 'restarted';
      },
    }],
  }];
}

function clonePhase(run: BootstrapRun, r: Replacement, out: { clonedWith?: string }): Phase<NodeConfig> {
  const members = run.env.nodes.filter(has('patroni'));
  const fromBackup = r.cloneFrom === 'backup' && survivorsOf(run.env, r).some(has('backup'));
  return {
    title: `Patroni: ${r.name} cloned ${fromBackup ? 'from the latest backup (else from the leader)' : 'from the leader'}`,
    nodes: [replacedNode(run.env, r)],
    steps: [{
      title: 'compose up patroni',
      timeoutMs: (WAITS.services + 240) * 1000,
      skip: () => (run.facts.get(r.name)!.facts.ours.get('patroni') === 'running' ? 'runs already' : false),
      run: async ({ node: n, signal, onCleanup }: Ctx) => {
        const c = await conn(run, n);
        const marker = `${run.env.baseDir}/${CLONE_FROM_LEADER}`;
        if (r.cloneFrom === 'leader') {
          await c.run(root('touch', marker));
          onCleanup('the clone-from-leader marker removed', async () => void (await c.exec(root('rm', '-f', marker))));
        }
        try {
          const { changed } = await upServices(c, run.env.baseDir, files(run, n), ['patroni'], { signal });
          for (const name of changed) noteChange(run, n.name, { kind: 'started', container: name });
        } catch (err) {
          if (err instanceof ServiceError) run.diagnostics.push({ node: n.name, title: 'last log lines of patroni', text: err.logs });
          throw err;
        }
        return 'started';
      },
    }, {
      title: `leader + ${members.length - 1} streaming replicas`,
      timeoutMs: (WAITS.replicas * 4 + 20) * 1000,
      run: async ({ node: n, signal, log }: Ctx) => {
        const c = await conn(run, n);
        const ms = await waitUntil('Patroni replicas', () => patroniStreaming(c, members.map((m) => m.name)), { timeoutMs: WAITS.replicas * 4 * 1000, intervalMs: 1000, signal, log });
        // Patroni says which of its create_replica_methods made the copy
        const said = (await c.exec(clonedWithCommand(), { timeoutMs: 20_000 })).stdout.match(/created using (\S+)/g)?.at(-1);
        if (said) out.clonedWith = said.replace('created using ', '');
        return `${ms.map((m) => `${m.name} ${m.role}`).join(', ')}${out.clonedWith ? `; cloned with ${out.clonedWith}` : ''}`;
      },
    }, {
      title: "the catch-up from the archive ended (a restored copy's restore_command dropped once it streams)",
      timeoutMs: 60_000,
      run: async ({ node: n }: Ctx) => ((await endCatchUp(run, n)) ? 'dropped; PostgreSQL reloaded' : 'none set'),
    }],
  };
}
