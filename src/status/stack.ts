import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { and, run } from '../remote/shell.js';
import { stackServicesCommand, stackTasksCommand } from '../remote/swarm.js';
import { isElecting } from '../swarm/electing.js';
import { eligibleNodes, usesSwarm } from '../swarm/services.js';
import { desiredOf, parseServices, parseTasks, runningByService } from '../swarm/stack-state.js';

/** A stack service as status shows it: running/desired and where. */
export interface StackServiceStatus {
  service: string;
  running: number;
  desired: number;
  nodes: string[];
}

interface ExecSource {
  get(node: NodeConfig): Promise<{ exec(cmd: ReturnType<typeof and>, o: { timeoutMs: number }): Promise<{ code: number | null; stdout: string; stderr: string }> }>;
}

const SEP = '--- tasks';

/**
 * Swarm (prod): asked on the first app node that answers; undefined under Compose; `stack` null
 * when no manager answered, `why` then says what the last one said (managers electing a leader is
 * a moment's gap, not a lost swarm).
 */
export async function stackState(pool: ExecSource, env: EnvironmentConfig, timeoutMs: number): Promise<{ stack: StackServiceStatus[] | null; why?: string } | undefined> {
  if (!usesSwarm(env)) return undefined;
  let why: string | undefined;
  const managers = env.nodes.filter((n) => n.roles.includes('supabase') || n.roles.includes('backend'));
  for (const m of [...managers, ...env.nodes.filter((n) => !managers.includes(n))]) {
    try {
      const res = await (await pool.get(m)).exec(and(stackServicesCommand(), run('echo', SEP), stackTasksCommand()), { timeoutMs });
      if (res.code !== 0) {
        why = isElecting(res.stderr) ? 'its managers are electing a leader (a manager was cut off or restarted): ask again in a few seconds' : `${m.name}: ${res.stderr.trim().split('\n').pop()}`;
        continue;
      }
      const [svc = '', tasks = ''] = res.stdout.split(`${SEP}\n`);
      const running = runningByService(parseTasks(tasks));
      return {
        stack: [...parseServices(svc).values()].map((s) => {
          const nodes = running.get(s.name) ?? [];
          return { service: s.name, running: nodes.length, desired: desiredOf(s, eligibleNodes(env, s.name).length), nodes };
        }).sort((a, b) => a.service.localeCompare(b.service)),
      };
    } catch {
      // the next manager
    }
  }
  return { stack: null, ...(why ? { why } : {}) };
}

export function stackWarnings({ stack, why }: { stack: StackServiceStatus[] | null; why?: string }, env: EnvironmentConfig): string[] {
  if (stack === null) return [`Swarm: the app tier is unknown — ${why ?? 'no manager answered'}`];
  const out = stack.filter((s) => s.running < s.desired).map((s) => `stack service ${s.service}: ${s.running}/${s.desired} running${s.nodes.length ? ` (on ${s.nodes.join(', ')})` : ''}`);
  // every task running, but on fewer nodes than it could use: a node lost and back (Swarm does not move tasks)
  for (const s of stack.filter((x) => x.running >= x.desired && x.running > 1)) {
    const could = Math.min(s.desired, eligibleNodes(env, s.service).length);
    if (new Set(s.nodes).size < could) out.push(`stack service ${s.service}: its ${s.running} tasks run on ${[...new Set(s.nodes)].join(', ')} only — twincigo deploy spreads them over the nodes again`);
  }
  if (stack.length === 0) out.push(`Swarm: the stack runs no service (twincigo deploy --env ${env.name} deploys it)`);
  return out;
}
