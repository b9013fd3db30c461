/** What Swarm says about the stack's services and tasks, parsed. */
export interface LiveService {
  name: string;
  spec: string;
  /** updating, completed, paused, rollback_started, rollback_completed, rollback_paused, or '' (never updated). */
  update: string;
  /** desired replicas, or 'global'. */
  mode: number | 'global';
  /** When Swarm's last update of it started ('' when never updated). */
  updateStartedAt: string;
}

export interface LiveTask {
  service: string;
  node: string;
  state: string;
  error: string;
}

const PREFIX = 'twincigo-app_';
const short = (name: string) => name.replace(PREFIX, '');

export function parseServices(text: string): Map<string, LiveService> {
  const out = new Map<string, LiveService>();
  for (const line of text.split('\n').filter(Boolean)) {
    const [name = '', spec = '', update = '', mode = '', startedAt = ''] = line.split('\t');
    out.set(short(name), { name: short(name), spec: spec === '<no value>' ? '' : spec, update, mode: mode === 'global' ? 'global' : Number(mode), updateStartedAt: startedAt });
  }
  return out;
}

/** `twincigo-app_kong.1` / `twincigo-app_caddy.<node id>` → kong / caddy. */
export function parseTasks(text: string): LiveTask[] {
  return text.split('\n').filter(Boolean).map((line) => {
    const [name = '', node = '', state = '', error = ''] = line.split('\t');
    return { service: short(name).replace(/\.[^.]+$/, ''), node, state, error };
  });
}

/** Per service: running tasks and the nodes they run on. */
export function runningByService(tasks: readonly LiveTask[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of tasks) if (/^Running/.test(t.state)) out.set(t.service, [...(out.get(t.service) ?? []), t.node].sort());
  return out;
}

/** What a global service should run: one task per eligible node. */
export const desiredOf = (s: LiveService, eligible: number) => (s.mode === 'global' ? eligible : s.mode);
