import type { NodeConfig } from '../config/model.js';
import type { Role } from '../config/roles.js';
import type { Phase, Plan, Step } from '../engine/types.js';
import { etcdQuorum, haproxyRoutesToLeader, nodeByAddress, patroniLeader, patroniStreaming } from '../cluster/health.js';
import { operator } from '../cluster/lock.js';
import { psqlViaHaproxy } from '../cluster/psql.js';
import { waitUntil } from '../cluster/wait.js';
import { TwincigoError } from '../errors.js';
import { upload } from '../ssh/upload.js';
import { bundleDigest } from '../stack/bundle.js';
import { servicesFor } from '../stack/compose-files.js';
import { supabaseSql } from '../stack/supabase-sql.js';
import { appliedFile, bundleOf, isConverged, noteChange, type BootstrapRun } from './context.js';
import { applyFirewallCommand, firewallPlan, firewallScriptPath } from './firewall.js';
import { bundleImages, fetchCommands, missingImagesCommand } from './images.js';
import { CONVERGED, WAITS, conn, files, has, unlessRestarted, upStep, type Ctx } from './steps.js';

/** Phases 2–9: firewall, upload, images, etcd, Patroni (leader first), HAProxy, database, services. */
export function bootstrapPlan(run: BootstrapRun): Plan<NodeConfig> {
  const env = run.env;
  const base = env.baseDir;
  const leaderNode = env.nodes.find((n) => n.name === env.initialLeader) ?? env.nodes.find(has('patroni'))!;
  const patroniNodes = env.nodes.filter(has('patroni'));
  const phases: Phase<NodeConfig>[] = [];

  if (run.options.firewall) {
    phases.push({
      title: 'Firewall',
      steps: [
        {
          title: 'cluster ports only from the cluster nodes',
          timeoutMs: 60_000,
          run: async ({ node }: Ctx) => {
            const c = await conn(run, node);
            const fw = firewallPlan(env, node);
            const [up] = await upload(c, [{ remotePath: firewallScriptPath(base), content: fw.script, mode: 0o700 }]);
            const res = await c.run(applyFirewallCommand(base));
            if (up!.action !== 'unchanged') noteChange(run, node.name, 'firewall rules');
            const persisted = res.stdout.includes('not-persistent') ? 'not persistent (no systemd)' : 'persistent';
            return `ports ${fw.ports.join(',')} from ${fw.allowed.length} nodes; ${up!.action === 'unchanged' ? 'unchanged' : 'applied'}, ${persisted}`;
          },
        },
      ],
    });
  }

  phases.push({
    title: 'Upload',
    steps: [
      {
        title: 'rendered bundle',
        timeoutMs: 120_000,
        run: async ({ node }: Ctx) => {
          const b = bundleOf(run, node);
          const res = await upload(await conn(run, node), b.files.map((f) => ({ remotePath: `${base}/${f.path}`, content: f.content, mode: f.mode })));
          const changed = res.filter((r) => r.action !== 'unchanged');
          for (const r of changed) noteChange(run, node.name, `${r.action} ${r.remotePath}`);
          return changed.length === 0 ? `${res.length} files unchanged` : `${changed.length} of ${res.length} files written`;
        },
      },
    ],
  });

  phases.push({
    title: run.options.shipImages ? 'Images (shipped over SSH)' : 'Images',
    steps: [
      {
        title: 'every image the node runs',
        timeoutMs: 1_800_000,
        skip: ({ node }: Ctx) => (isConverged(run, node) ? CONVERGED : false),
        run: async ({ node, signal, log }: Ctx) => {
          const c = await conn(run, node);
          const images = bundleImages(bundleOf(run, node));
          const missingNow = async () => (await c.run(missingImagesCommand(images.map((i) => i.image)))).stdout.split('\n').filter(Boolean);
          const missing = await missingNow();
          if (missing.length === 0) return `all ${images.length} present`;
          if (run.options.shipImages) {
            for (const image of missing) {
              log(`shipping ${image}`);
              await run.shipImage(c, image, signal);
            }
          } else {
            for (const cmd of fetchCommands(base, files(run, node), images.filter((i) => missing.includes(i.image)))) {
              log(`fetching ${missing.length} image(s)`);
              await c.run(cmd, { timeoutMs: 1_500_000, signal });
            }
          }
          const still = await missingNow();
          if (still.length > 0) throw new TwincigoError(`images still missing: ${still.join(', ')}`);
          noteChange(run, node.name, `${missing.length} image${missing.length === 1 ? '' : 's'} ${run.options.shipImages ? 'shipped' : 'fetched'}`);
          return `${missing.length} ${run.options.shipImages ? 'shipped' : 'fetched'}, ${images.length - missing.length} present`;
        },
      },
    ],
  });

  const etcdNodes = env.nodes.filter(has('etcd'));
  const quorum = (ctx: { signal: AbortSignal; log: (l: string) => void }) => {
    return conn(run, etcdNodes[0]!).then((c) =>
      waitUntil('etcd quorum', () => etcdQuorum(c, etcdNodes), { timeoutMs: WAITS.etcd * 1000, intervalMs: 500, signal: ctx.signal, log: ctx.log }),
    );
  };
  const quorumTitle = `quorum: all ${etcdNodes.length} members healthy`;
  if (run.existing.etcd) {
    // a running cluster keeps its quorum: members are (re)started one at a time, each waited for
    phases.push({ title: 'etcd (one member at a time)', nodes: etcdNodes, serial: true, steps: [upStep(run, 'compose up etcd', () => ['etcd']), { title: quorumTitle, timeoutMs: (WAITS.etcd + 20) * 1000, skip: unlessRestarted(run, 'etcd'), run: quorum }] });
  } else {
    // a new cluster needs its members up together to elect a leader
    phases.push({ title: 'etcd', nodes: etcdNodes, steps: [upStep(run, 'compose up etcd', () => ['etcd'])], then: [{ title: quorumTitle, timeoutMs: (WAITS.etcd + 20) * 1000, run: quorum }] });
  }

  const streaming: Step<NodeConfig> = {
    title: `leader + ${patroniNodes.length - 1} streaming replicas`,
    timeoutMs: (WAITS.replicas + 20) * 1000,
    run: async ({ node, signal, log }: Ctx) => {
      const c = await conn(run, node);
      const ms = await waitUntil('Patroni replicas', () => patroniStreaming(c, patroniNodes.map((n) => n.name)), { timeoutMs: WAITS.replicas * 1000, intervalMs: 500, signal, log });
      return ms.map((m) => `${m.name} ${m.role}`).join(', ');
    },
  };
  const current = run.existing.leader ? patroniNodes.find((n) => n.name === run.existing.leader) : undefined;
  if (current) {
    // a running cluster: replicas first, the leader last, each restart (if any) waited for until all stream again
    const order = [...patroniNodes.filter((n) => n !== current), current];
    phases.push({ title: `Patroni (one member at a time, leader ${current.name} last)`, nodes: order, serial: true, steps: [upStep(run, 'compose up patroni', () => ['patroni']), { ...streaming, skip: unlessRestarted(run, 'patroni') }] });
  } else {
    phases.push({
      title: `Patroni: first leader (${leaderNode.name})`,
      nodes: [leaderNode],
      steps: [
        upStep(run, 'compose up patroni', () => ['patroni']),
        {
          title: 'a leader is elected',
          timeoutMs: (WAITS.leader + 20) * 1000,
          run: async ({ node, signal, log }: Ctx) => {
            const c = await conn(run, node);
            const leader = await waitUntil('Patroni leader', () => patroniLeader(c), { timeoutMs: WAITS.leader * 1000, intervalMs: 500, signal, log });
            return `leader: ${leader}`;
          },
        },
      ],
    });
    const replicas = patroniNodes.filter((n) => n !== leaderNode);
    phases.push({
      title: 'Patroni: replicas',
      nodes: replicas,
      steps: [upStep(run, 'compose up patroni', () => ['patroni'])],
      then: [{ title: streaming.title, timeoutMs: streaming.timeoutMs!, run: (ctx) => streaming.run({ ...ctx, node: leaderNode } as Ctx) }],
    });
  }

  phases.push({
    title: run.existing.leader ? 'HAProxy (one node at a time)' : 'HAProxy',
    nodes: env.nodes.filter(has('haproxy')),
    serial: Boolean(run.existing.leader),
    steps: [
      upStep(run, 'compose up haproxy', () => ['haproxy']),
      {
        title: ':5000 reaches the leader',
        timeoutMs: (WAITS.haproxy + 20) * 1000,
        skip: ({ node }: Ctx) => (isConverged(run, node) ? `${CONVERGED} (the report reads its routing)` : false),
        run: async ({ node, signal, log }: Ctx) => {
          const c = await conn(run, node);
          const addr = await waitUntil(`HAProxy on ${node.name}`, () => haproxyRoutesToLeader(c), { timeoutMs: WAITS.haproxy * 1000, intervalMs: 500, signal, log });
          return `→ ${nodeByAddress(env.nodes, addr)}`;
        },
      },
    ],
  });

  phases.push({
    title: 'Database: Supabase roles, schemas, grants',
    then: [
      {
        title: 'idempotent SQL through HAProxy :5000',
        timeoutMs: 150_000,
        skip: () => (env.nodes.every((n) => isConverged(run, n)) ? 'every node converged: applied by an earlier run' : false),
        run: async ({ log }) => {
          const c = await conn(run, leaderNode);
          const v = run.values.values;
          const res = await psqlViaHaproxy(c, supabaseSql({ postgresPassword: v.POSTGRES_PASSWORD!, backendPassword: v.BACKEND_DB_PASSWORD! }));
          for (const n of res.notices) log(n);
          return res.notices.length > 0 ? `applied (${res.notices.length} notices)` : 'applied';
        },
      },
    ],
  });

  // the rest, health-gated, in dependency order on each node (Redis before the backend); nodes in parallel
  const groups: Array<{ title: string; roles: Role[] }> = [
    { title: 'Redis', roles: ['redis'] },
    { title: 'Supabase', roles: ['supabase', 'storage'] },
    { title: 'backend', roles: ['backend'] },
    { title: 'monitoring', roles: ['monitoring'] },
  ];
  const servicesOf = (roles: Role[]) => (n: NodeConfig) => servicesFor(roles.filter((r) => n.roles.includes(r)), env.profile);
  const steps = groups.map((g) => {
    const all = [...new Set(env.nodes.flatMap(servicesOf(g.roles)))];
    return upStep(run, `${g.title}: compose up --wait ${all.join(' ')}`, servicesOf(g.roles), WAITS.services, (n) => servicesOf(g.roles)(n).length > 0);
  });
  phases.push({ title: 'Services (Redis, Supabase, backend, monitoring)', steps });

  phases.push({
    title: 'Record',
    steps: [
      {
        title: `applied bundle digest (${'.applied.json'})`,
        skip: ({ node }: Ctx) => (isConverged(run, node) ? 'unchanged' : false),
        run: async ({ node }: Ctx) => {
          const digest = bundleDigest(bundleOf(run, node));
          const record = `${JSON.stringify({ digest, at: new Date().toISOString(), by: operator(), command: 'bootstrap' })}\n`;
          await upload(await conn(run, node), [{ remotePath: appliedFile(base), content: record, mode: 0o644 }]);
          return digest.slice(0, 12);
        },
      },
    ],
  });
  return { title: `bootstrap ${env.name}`, phases };
}
