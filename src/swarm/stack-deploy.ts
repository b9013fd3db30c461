import { parse, stringify } from 'yaml';
import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { TwincigoError } from '../errors.js';
import { notYet, ready, waitUntil } from '../cluster/wait.js';
import { imageCommandCommand, removeObjectsCommand, serviceTasksCommand, stackDeployCommand, stackObjectsCommand, stackServicesCommand, stackTasksCommand } from '../remote/swarm.js';
import type { SshConnection } from '../ssh/connection.js';
import { upload } from '../ssh/upload.js';
import { eligibleNodes, STACK_ROLES } from './services.js';
import { onSwarm } from './electing.js';
import { STACK_DIR, STACK_FILE } from './stack-file.js';
import { desiredOf, parseServices, parseTasks, runningByService, type LiveService, type LiveTask } from './stack-state.js';

/** How long a stack deploy may take to converge (a rolling update: start-first, monitored 15 s per task). */
export const STACK_WAIT_SEC = 420;

/** The node `docker stack deploy` runs on: the first selected node that holds the stack file. */
export const stackNode = (env: EnvironmentConfig, nodes: readonly NodeConfig[]) => nodes.find((n) => STACK_ROLES.some((r) => n.roles.includes(r)));

export interface StackPlan {
  /** Services whose spec (or anything they mount) differs from what runs, or that do not run yet. */
  changed: string[];
  /** Services the stack no longer has (removed by --prune). */
  removed: string[];
  /** After a deploy: the changed services whose tasks Swarm replaced (a rolling update ran); the others changed only in what needs no new task (a label, placement). */
  rolled?: string[];
}

type Wanted = Record<string, { deploy: { labels: Record<string, string>; replicas?: number }; entrypoint?: string[]; command?: string[]; image: string }>;

const wantedOf = (text: string) => (parse(text) as { services: Wanted }).services;

/** Progress and cancellation for a request to the swarm (an election is waited out, and said). */
export type SwarmOpts = { signal?: AbortSignal; log?: (s: string) => void };

export async function liveServices(c: SshConnection, opts: SwarmOpts = {}): Promise<Map<string, LiveService>> {
  return parseServices((await onSwarm(c, stackServicesCommand(), { timeoutMs: 30_000, ...opts })).stdout);
}

/** The stack's tasks Swarm wants running (running, starting, pending…), with their state and error. */
export async function stackTasks(c: SshConnection, opts: SwarmOpts = {}): Promise<LiveTask[]> {
  return parseTasks((await onSwarm(c, stackTasksCommand(), { timeoutMs: 30_000, ...opts })).stdout);
}

/** Each stack service's running tasks: the node of each. */
export async function runningTasks(c: SshConnection, opts: SwarmOpts = {}): Promise<Map<string, string[]>> {
  return runningByService(await stackTasks(c, opts));
}

/**
 * Compares the rendered stack with what Swarm runs: its spec label per service, and its replicas
 * (a service scaled by hand — `docker service scale` — is drift the next deploy puts back).
 */
export function stackPlan(text: string, live: Map<string, LiveService>): StackPlan {
  const wanted = wantedOf(text);
  const differs = (name: string, s: Wanted[string]) => {
    const l = live.get(name);
    return l?.spec !== s.deploy.labels['twincigo.spec'] || (s.deploy.replicas !== undefined && l!.mode !== s.deploy.replicas);
  };
  const changed = Object.entries(wanted).filter(([name, s]) => differs(name, s)).map(([name]) => name);
  const removed = [...live.keys()].filter((n) => !(n in wanted));
  return { changed, removed };
}

/**
 * The stack file as deployed: the services that load a secret get the image's own entrypoint and
 * command behind the loader (read from the image on the node), written beside the rendered file.
 */
async function resolvedStack(c: SshConnection, text: string, baseDir: string): Promise<string> {
  const doc = parse(text) as { services: Wanted };
  const needs = Object.entries(doc.services).filter(([, s]) => s.entrypoint?.[3] === 'twincigo-env' && !s.command);
  await Promise.all(needs.map(async ([name, s]) => {
    const res = await c.run(imageCommandCommand(s.image), { timeoutMs: 600_000 });
    const [entry, cmd] = res.stdout.trim().split('\t').map((j) => (JSON.parse(j || 'null') as string[] | null) ?? []);
    const argv = [...entry!, ...cmd!].map((a) => a.replace(/\$/g, '$$$$'));
    if (argv.length === 0) throw new TwincigoError(`stack service ${name}: its image ${s.image} has neither an entrypoint nor a command to start behind the secret loader`);
    s.command = argv;
  }));
  return `# Deployed by twincigo from ${baseDir}/${STACK_FILE} (the image commands filled in)\n${stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' })}`;
}

/**
 * `docker stack deploy` of the rendered stack from the stack node, then the wait: every changed
 * service's rolling update completed (Swarm rolls back a failed one: that is reported with its
 * task errors) and every service at its desired replicas. Old secrets and configs are removed
 * after. Nothing is sent when nothing changed.
 */
export async function deployStack(env: EnvironmentConfig, c: SshConnection, text: string, opts: { signal?: AbortSignal; log?: (s: string) => void; force?: boolean } = {}): Promise<StackPlan> {
  const before = await liveServices(c, opts);
  const plan = stackPlan(text, before);
  if (plan.changed.length === 0 && plan.removed.length === 0 && !opts.force) return plan;
  const deployed = `${env.baseDir}/${STACK_DIR}/app.deployed.yml`;
  await upload(c, [{ remotePath: deployed, content: await resolvedStack(c, text, env.baseDir), mode: 0o644 }]);
  await onSwarm(c, stackDeployCommand(deployed), { timeoutMs: 120_000, ...opts });
  opts.log?.(`stack deployed: ${plan.changed.length ? `updating ${plan.changed.join(', ')}` : ''}${plan.removed.length ? ` removing ${plan.removed.join(', ')}` : ''}`);
  await converge(env, c, plan.changed, { ...opts, before });
  await pruneObjects(c, text, opts);
  const after = await liveServices(c, opts);
  const rolled = plan.changed.filter((s) => !before.has(s) || after.get(s)?.updateStartedAt !== before.get(s)!.updateStartedAt);
  return { ...plan, rolled };
}

/** A changed service's update is this deploy's once Swarm started a new one — or, for a change that needs no rolling update (replicas), after a grace period. */
const GRACE_MS = 5000;

/**
 * Waits for the changed services' updates and every service's replicas; a rolled-back or failing
 * update is an error with its tasks' errors. `before`: what Swarm said before the deploy (a finished
 * earlier update is not taken for this one).
 */
export async function converge(env: EnvironmentConfig, c: SshConnection, changed: readonly string[], opts: { signal?: AbortSignal; log?: (s: string) => void; before?: Map<string, LiveService> }): Promise<void> {
  const failed = new Set(['rollback_started', 'rollback_completed', 'rollback_paused', 'paused']);
  const since = Date.now();
  // a failed update ends the wait with its error (an error thrown inside a check only means "not yet")
  const outcome = await waitUntil<TwincigoError | true>('the stack converging', async () => {
    const live = await liveServices(c, opts);
    const stale = changed.filter((s) => {
      const was = opts.before?.get(s);
      return was !== undefined && live.get(s)?.updateStartedAt === was.updateStartedAt && Date.now() - since < GRACE_MS;
    });
    if (stale.length) return notYet(`Swarm to start updating ${stale.join(', ')}`);
    const bad = changed.filter((s) => failed.has(live.get(s)?.update ?? ''));
    if (bad.length) {
      // Swarm is rolling back (or rolled back): wait for its rollback to finish, then say so
      if (bad.some((s) => live.get(s)!.update === 'rollback_started')) return notYet(`Swarm rolling back ${bad.join(', ')}`);
      return ready(await updateFailed(c, bad, live, opts));
    }
    const updating = changed.filter((s) => live.get(s)?.update === 'updating');
    if (updating.length) return notYet(`updating ${updating.join(', ')}`);
    const running = await runningTasks(c, opts);
    const short = [...live.values()].filter((s) => (running.get(s.name)?.length ?? 0) < desiredOf(s, eligibleNodes(env, s.name).length));
    if (short.length) return notYet(short.map((s) => `${s.name} ${running.get(s.name)?.length ?? 0}/${desiredOf(s, eligibleNodes(env, s.name).length)}`).join(', '));
    return ready(true);
  }, { timeoutMs: STACK_WAIT_SEC * 1000, intervalMs: 1000, ...opts });
  if (outcome !== true) throw outcome;
}

class StackUpdateFailed extends TwincigoError {}

async function updateFailed(c: SshConnection, services: string[], live: Map<string, LiveService>, opts: SwarmOpts): Promise<TwincigoError> {
  const lines: string[] = [];
  for (const s of services) {
    const tasks = (await onSwarm(c, serviceTasksCommand(s), { timeoutMs: 30_000, ...opts })).stdout.split('\n').filter((l) => l.split('\t')[4]).slice(0, 4);
    lines.push(`${s}: update ${live.get(s)!.update.replace('_', ' ')}${tasks.length ? '' : ' (no task error recorded)'}`, ...tasks.map((t) => `  ${t.replace(/\t/g, '  ')}`));
  }
  const rolledBack = services.every((s) => live.get(s)!.update === 'rollback_completed');
  return new StackUpdateFailed(`${rolledBack ? 'Swarm rolled back' : 'Swarm stopped'} the update of ${services.join(', ')}:\n${lines.join('\n')}`, undefined, [
    rolledBack ? 'the previous version runs again; fix the image or its settings and deploy again' : '`docker service ps twincigo-app_<service>` on a node shows the tasks',
  ]);
}
export const isStackUpdateFailed = (e: unknown): e is TwincigoError => e instanceof StackUpdateFailed;

/** Secrets and configs of earlier deploys that no service uses any more (Docker refuses to remove one in use). */
async function pruneObjects(c: SshConnection, text: string, opts: SwarmOpts): Promise<void> {
  const doc = parse(text) as { secrets?: Record<string, { name: string }>; configs?: Record<string, { name: string }> };
  const keep = new Set([...Object.values(doc.secrets ?? {}), ...Object.values(doc.configs ?? {})].map((o) => o.name));
  const objs = (await onSwarm(c, stackObjectsCommand(), { timeoutMs: 30_000, ...opts })).stdout.split('\n').filter(Boolean).map((l) => {
    const [kind, name] = l.split(' ') as ['secret' | 'config', string];
    return { kind, name };
  }).filter((o) => !keep.has(o.name));
  if (objs.length) await onSwarm(c, removeObjectsCommand(objs), { timeoutMs: 60_000, ...opts });
}
