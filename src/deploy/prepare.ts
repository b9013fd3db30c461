import { describeMembers, isLeader, leaderName, patroniMembers, type PatroniMember } from '../cluster/patroni.js';
import { parseApiResponse, patroniApiCommand } from '../cluster/patroni-api.js';
import { psqlQueryCommand } from '../cluster/psql.js';
import type { NodeConfig } from '../config/model.js';
import type { Plan } from '../engine/types.js';
import { TwincigoError } from '../errors.js';
import { upload } from '../ssh/upload.js';
import { MEMBERSHIP, nodeChanges } from './changes.js';
import { nodeNamed, targetId, type DeployRun } from './deploy-run.js';
import { ROLES } from '../config/roles.js';
import { composeFilesFor } from '../stack/compose-files.js';
import { usesSwarm } from '../swarm/services.js';
import { inspectCommand, parseInspection, type NodeInspection } from './inspect.js';
import type { SshConnection } from '../ssh/connection.js';
import { changedParameters, dcsPatch, desiredDcs, type Dcs } from './patroni-dcs.js';
import { manifestText, stageFiles } from './release.js';
import { stackPrepareStep } from './stack.js';

const healthy = (ms: PatroniMember[]) => leaderName(ms) !== undefined && ms.every((m) => isLeader(m) || m.state === 'streaming');

/**
 * Before anything changes: the cluster is healthy, the new release is uploaded next to the running
 * one (a deploy) or is on the node already (a rollback), and each node says what it runs — so the
 * plan is exact. Nothing the stack uses is touched here.
 */
export function preparePlan(run: DeployRun, opts: { upload: boolean }): Plan<NodeConfig> {
  const base = run.env.baseDir;
  const patroniYml = new Map<string, string>();
  return {
    title: `${run.meta.command} ${run.env.name}: release ${run.meta.id}`,
    phases: [
      {
        title: 'Prepare',
        nodes: run.nodes,
        steps: [
          {
            title: opts.upload ? 'compare with what the node runs; upload the release where files differ' : 'compare with what the node runs',
            timeoutMs: 180_000,
            run: async ({ node }) => {
              const conn = await run.pool.get(node);
              const bundle = run.bundles.get(node.name);
              const composeFiles = bundle?.composeFiles ?? composeFilesOf(run, node);
              run.composeFiles.set(node.name, composeFiles);
              // a deploy first checks the live tree against the rendered manifest; a rollback its release
              let insp = await inspect(conn, base, node, opts.upload ? null : targetId(run, node.name), composeFiles, bundle ? manifestText(bundle.files) : undefined);
              let c = nodeChanges(node.name, insp);
              let where = opts.upload ? 'the live files' : `release ${targetId(run, node.name)}`;
              if (bundle && c.changedFiles.length + c.addedFiles.length + c.removedFiles.length > 0) {
                // compose must see the new files to say which services they change (the live tree may lack some)
                await stage(run, node);
                insp = await inspect(conn, base, node, run.meta.id, composeFiles);
                c = nodeChanges(node.name, insp);
                where = `release ${run.meta.id}`;
              }
              if (insp.composeError) throw new TwincigoError(`compose cannot read ${where}: ${insp.composeError}`);
              if (insp.patroniYml) patroniYml.set(node.name, insp.patroniYml);
              const members = c.orphans.filter((s) => MEMBERSHIP.has(s));
              if (members.length > 0) {
                throw new TwincigoError(`${node.name} would lose ${members.join(' and ')}: deploy does not change cluster membership`, 1, [
                  'keep the role on the node; moving etcd/Patroni members is a membership change (add the new member, then remove the old one)',
                ]);
              }
              run.changes.set(node.name, c);
              return `${c.changedFiles.length + c.addedFiles.length + c.removedFiles.length} files, ${c.recreate.length} services to recreate, ${c.reload.length} to reload`;
            },
          },
        ],
        then: [
          ...[stackPrepareStep(run)].filter((x): x is NonNullable<typeof x> => x !== null),
          {
            title: 'cluster healthy; Patroni cluster config',
            timeoutMs: 60_000,
            run: async () => {
              const patroniNodes = run.env.nodes.filter((n) => n.roles.includes('patroni'));
              const ms = await patroniMembers(await run.pool.get(patroniNodes[0]!));
              if (!healthy(ms) || ms.length !== patroniNodes.length) {
                throw new TwincigoError(`the cluster is not healthy (${describeMembers(ms)}): a deploy starts from a healthy cluster`, 1, [
                  'twincigo status shows what is wrong; twincigo bootstrap repairs a missing member',
                ]);
              }
              run.leader = leaderName(ms)!;
              run.pendingRestart = ms.filter((m) => m.pending_restart).map((m) => m.name);
              const yml = [...patroniYml.values()][0];
              if (!yml) return `leader ${run.leader}`;
              const leaderConn = await run.pool.get(nodeNamed(run, run.leader));
              const got = parseApiResponse((await leaderConn.run(patroniApiCommand('GET', '/config'), { timeoutMs: 30_000 })).stdout);
              if (got.status !== 200) throw new TwincigoError(`Patroni GET /config answered HTTP ${got.status}: ${got.body}`);
              const current = JSON.parse(got.body) as Dcs;
              const patch = dcsPatch(desiredDcs(yml), current);
              const restartParameters = await needRestart(leaderConn, changedParameters(patch));
              run.dcs = { current, patch, restartParameters };
              return `leader ${run.leader}${run.pendingRestart.length ? `; pending restart: ${run.pendingRestart.join(', ')}` : ''}; ${Object.keys(patch).length ? `config to change: ${JSON.stringify(patch)}` : 'Patroni config unchanged'}`;
            },
          },
        ],
      },
    ],
  };
}

async function inspect(conn: SshConnection, base: string, node: NodeConfig, id: string | null, composeFiles: string[], manifest?: string): Promise<NodeInspection> {
  const res = await conn.exec(inspectCommand(base, id, composeFiles), { timeoutMs: 50_000, ...(manifest !== undefined ? { stdin: manifest } : {}) });
  if (res.code === 4) throw new TwincigoError(`release ${id} is not on ${node.name}`, 1, ['twincigo releases lists what each node has']);
  if (res.code !== 0) throw new TwincigoError(`inspecting the base dir failed: ${res.stderr.trim() || `exit ${res.code}`}`);
  return parseInspection(res.stdout);
}

/** Uploads the release to a node (once): the prepare step where files differ, activation elsewhere. */
export async function stage(run: DeployRun, node: NodeConfig): Promise<void> {
  if (run.staged.has(node.name)) return;
  await upload(await run.pool.get(node), stageFiles(run.env.baseDir, run.bundles.get(node.name)!.files, run.meta));
  run.staged.add(node.name);
}

/** Of these parameters, those PostgreSQL applies only at a restart (context postmaster). */
async function needRestart(conn: Awaited<ReturnType<DeployRun['pool']['get']>>, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const list = names.map((n) => `'${n.replace(/'/g, "''")}'`).join(',');
  const res = await conn.run(psqlQueryCommand(5432, `select name from pg_settings where context = 'postmaster' and name in (${list})`), { timeoutMs: 20_000 });
  return res.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** A rollback's compose files: the node's roles give them, in the order a render uses. */
function composeFilesOf(run: DeployRun, node: NodeConfig): string[] {
  const files = ROLES.filter((r) => node.roles.includes(r)).flatMap((r) => composeFilesFor(r, run.env).map((c) => c.path));
  return usesSwarm(run.env) && (node.roles.includes('redis') || node.roles.includes('storage')) ? [...files, 'compose/swarm-network.yml'] : files;
}
