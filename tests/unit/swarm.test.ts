import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isSecretKey } from '../../src/config/env-keys.js';
import { readInventory, resolveEnvironment } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { render } from '../../src/remote/shell.js';
import { parseSwarmInfo, swarmJoinCommand, swarmNodesCommand } from '../../src/remote/swarm.js';
import { renderAll } from '../../src/stack/bundle.js';
import { postgrestKey } from '../../src/swarm/secret-env.js';
import { STACK_FILE, UNHEALTHY_AFTER_SEC, durationSec } from '../../src/swarm/stack-file.js';
import { stackPlan } from '../../src/swarm/stack-deploy.js';
import { isElecting, onSwarm } from '../../src/swarm/electing.js';
import { stackWarnings } from '../../src/status/stack.js';
import type { SshConnection } from '../../src/ssh/connection.js';
import { rebalance, tasksSaid, unbalanced } from '../../src/swarm/rebalance.js';
import { parseServices, parseTasks, runningByService } from '../../src/swarm/stack-state.js';
import { completeEnvText, validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';
import { REPO } from '../helpers/cli.js';

const APP = ['etcd', 'patroni', 'haproxy', 'supabase', 'backend'];
/**
 * Made once: its JWTs carry the second they were signed in (iat), so two renders a second apart
 * would differ in Kong's keys — the spec-label test failed that way under CI's load.
 */
const BASE_VALUES = Object.fromEntries(completeEnvText('p-Kq8vT2mZ5xW9pLsXa$x').split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
function prod(edit: (env: Record<string, any>) => void = () => {}, extra: Record<string, string> = {}) {
  const tmp = tempDir();
  try {
    const doc = validInventory();
    const e = doc.environments.dev;
    e.profile = 'prod';
    e.nodes[0].roles = [...APP, 'storage'];
    e.nodes[1].roles = [...APP, 'redis'];
    edit(e);
    const env = resolveEnvironment(readInventory(writeInventory(tmp.dir, doc)), 'dev');
    const values = {
      ...BASE_VALUES,
      BACKUP_S3_ENDPOINT: 's3.example.com', BACKUP_S3_BUCKET: 'b', BACKUP_S3_REGION: 'r', BACKUP_S3_ACCESS_KEY: 'AKIA-offsite-key-1', BACKUP_S3_SECRET_KEY: 'offsite-secret-Kq8vT2mZ5xW9', PGBACKREST_REPO2_CIPHER_PASS: 'cipher-Kq8vT2mZ5xW9pLsXa-cipher',
      STORAGE_S3_ACCESS_KEY: 'storage-key', STORAGE_S3_SECRET_KEY: 'storage-secret-Zq2', MINIO_ROOT_PASSWORD: 'minio-Root-Pass-1', ACME_EMAIL: 'ops@example.com',
      ...extra,
    };
    const r = renderAll(env, env.nodes, { file: '/x', exists: true, problems: [], values });
    const file = (node: string, path: string) => r.bundles.find((b) => b.node === node)!.files.find((f) => f.path === path);
    return { env, values, ...r, file, stack: () => parse(file('hil-1', STACK_FILE)!.content) as any };
  } finally {
    tmp.cleanup();
  }
}

describe('the app tier as a Swarm stack (prod)', () => {
  it('prod defaults to Swarm; its nodes run no Supabase/backend under Compose; Redis and MinIO join the overlay', () => {
    const { env, bundles, file, problems } = prod();
    expect(env.orchestrator).toBe('swarm');
    expect(problems.filter((p) => !p.includes('missing'))).toEqual([]);
    for (const b of bundles) expect(b.composeFiles.filter((f) => /supabase|backend/.test(f))).toEqual([]);
    expect(bundles.find((b) => b.node === 'hil-1')!.composeFiles).toContain('compose/swarm-network.yml');
    expect(parse(file('ash-1', 'compose/swarm-network.yml')!.content)).toEqual({ networks: { app: { name: 'twincigo-app', external: true } } });
    // the stack file is where app tasks may run (deploy runs it from there), not on the monitoring node
    expect(file('ash-2', STACK_FILE)).toBeUndefined();
    expect(file('ash-1', STACK_FILE)!.content).toBe(file('hil-1', STACK_FILE)!.content);
  });

  it('no secret value in the stack file; each service gets its own as a Swarm secret, named by content', () => {
    const { file, values, stack } = prod();
    const text = file('hil-1', STACK_FILE)!.content;
    for (const [k, v] of Object.entries(values)) if (isSecretKey(k) && v.length > 6) expect(text, k).not.toContain(v);
    const s = stack();
    expect(s.services.auth.entrypoint.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(s.services.auth.secrets).toEqual([{ source: 'auth_env', target: 'twincigo.env', mode: 0o444 }]);
    expect(s.secrets.auth_env.name).toMatch(/^twincigo-auth-env-[0-9a-f]{12}$/);
    const authEnv = file('hil-1', 'stack/secrets/auth.env')!;
    expect(authEnv.secret).toBe(true);
    expect(authEnv.content).toContain(`GOTRUE_JWT_SECRET=${values.JWT_SECRET}`);
    // a $ in a secret value is literal in the file the shell sources, and quoted
    expect(authEnv.content).toContain("GOTRUE_DB_DATABASE_URL='postgres://supabase_auth_admin:p-Kq8vT2mZ5xW9pLsXa$x@host.docker.internal:5000/postgres'");
    // the settings that are not secret stay visible in the spec
    expect(s.services.auth.environment.GOTRUE_SITE_URL).toBe('https://app');
    // PostgREST has no shell: its config file as its only argument
    expect(s.services.rest.entrypoint).toEqual(['postgrest']);
    expect(s.services.rest.command).toEqual(['/run/secrets/postgrest.conf']);
    expect(file('hil-1', 'stack/secrets/rest.conf')!.content).toContain(`jwt-secret = "${values.JWT_SECRET}"`);
    expect(postgrestKey('PGRST_APP_SETTINGS_JWT_EXP')).toBe('app.settings.jwt_exp');
    // realtime's health check needs the anon key: read from the secret at check time
    expect(s.services.realtime.healthcheck.test[0]).toBe('CMD-SHELL');
    expect(s.services.realtime.healthcheck.test[1]).toContain('Bearer $${ANON_KEY}');
  });

  it("a task is unhealthy (Swarm replaces it) only after a minute of failed checks: a database failover must not restart every backend task; the compose files' checks are left as they are", () => {
    const s = prod().stack();
    const composeBackend = parse(readFileSync(`${REPO}compose/backend.yml`, 'utf8')).services.backend.healthcheck;
    expect(composeBackend).toMatchObject({ interval: '10s', retries: 3 });
    expect(s.services.backend.healthcheck).toMatchObject({ interval: '10s', retries: 6, start_period: composeBackend.start_period });
    for (const [name, svc] of Object.entries<any>(s.services)) {
      if (svc.healthcheck) expect(durationSec(svc.healthcheck.interval) * svc.healthcheck.retries, name).toBeGreaterThanOrEqual(UNHEALTHY_AFTER_SEC);
    }
    expect([durationSec('10s'), durationSec('1m30s'), durationSec('500ms')]).toEqual([10, 90, 0.5]);
    expect(() => durationSec('10 s')).toThrow(/not a duration/);
  });

  it('placement, spread, rolling updates and DNS discovery (no IPVS needed); the edge on every Supabase node with host-mode ports', () => {
    const s = prod().stack();
    for (const [name, svc] of Object.entries<any>(s.services)) {
      expect(svc.deploy.endpoint_mode, name).toBe('dnsrr');
      expect(svc.deploy.update_config.failure_action, name).toBe('rollback');
      expect(svc.deploy.resources.limits.cpus, name).toMatch(/^\d\.\d\d$/);
      expect(svc.ports === undefined || name === 'caddy', name).toBe(true);
      expect(svc.networks, name).toBeDefined();
    }
    expect(s.services.kong.deploy).toMatchObject({ mode: 'replicated', replicas: 2, placement: { constraints: ['node.labels.twincigo.supabase == true'] } });
    expect(s.services.kong.deploy.placement.max_replicas_per_node).toBeUndefined();
    expect(s.services.kong.deploy.update_config.order).toBe('start-first');
    expect(s.services.backend.deploy.placement.constraints).toEqual(['node.labels.twincigo.backend == true']);
    expect(s.services.caddy.deploy).toMatchObject({ mode: 'global', placement: { constraints: ['node.labels.twincigo.edge == true'] } });
    expect(s.services.caddy.ports).toEqual([80, 443].map((p) => ({ target: p, published: p, protocol: 'tcp', mode: 'host' })));
    expect(s.services.caddy.environment.BACKEND_UPSTREAM).toBe('backend:8080');
    expect(s.networks.app).toEqual({ external: true, name: 'twincigo-app' });
    expect(s.configs.caddy_Caddyfile.file).toMatch(/\/stack\/config\/Caddyfile$/);
  });

  it('a spec label that changes with the service or what it mounts — and only then', () => {
    const a = prod().stack().services;
    const b = prod(undefined, { JWT_SECRET: 'Zz9vX9mT2kLp8wRz5nYc3bHf6gDs1aZe7uNi' }).stack().services;
    const label = (s: any) => s.deploy.labels['twincigo.spec'];
    expect(label(b.auth)).not.toBe(label(a.auth));
    expect(label(b.imgproxy)).toBe(label(a.imgproxy));
    expect(label(prod().stack().services.kong)).toBe(label(a.kong));
    const c = prod((e) => (e.swarm = { replicas: { backend: 1 } })).stack().services;
    expect(c.backend.deploy.replicas).toBe(1);
    expect(label(c.backend)).not.toBe(label(a.backend));
  });

  it('inventory checks: Swarm is prod’s; only stack services have replicas', () => {
    const bad = (edit: (e: Record<string, any>) => void) => {
      try {
        prod(edit);
        return [];
      } catch (e) {
        return (e as ConfigError).problems;
      }
    };
    expect(bad((e) => (e.profile = 'dev', e.orchestrator = 'swarm')).join('\n')).toMatch(/orchestrator: swarm is prod's/);
    expect(bad((e) => (e.swarm = { replicas: { redis: 2, caddy: 2 } })).join('\n')).toMatch(/replicas.redis: not a stack service[\s\S]*replicas.caddy: not a stack service/);
    expect(bad((e) => (e.orchestrator = 'compose', e.swarm = { replicas: { kong: 2 } })).join('\n')).toMatch(/swarm: is for orchestrator: swarm/);
    // one Supabase node: one replica each, nothing unplaceable
    const one = prod((e) => (e.nodes[1].roles = ['etcd', 'patroni', 'haproxy', 'backend', 'redis'])).stack();
    expect(one.services.kong.deploy.replicas).toBe(1);
  });

  it('each node has room for one task of every service it may run beside its pinned ones (CCX33, and the lab’s 2-CPU size)', () => {
    const fits = (p: string[]) => p.filter((x) => /CPUs|MiB of memory|limit/.test(x));
    expect(fits(prod().problems)).toEqual([]);
    expect(fits(prod((e) => (e.nodeSize = { cpus: 2, memoryGiB: 8 })).problems)).toEqual([]);
    // four backend replicas on two nodes: two on each, and a CCX33 has no room for that beside the rest
    expect(fits(prod((e) => (e.swarm = { replicas: { backend: 4 } })).problems).join('\n')).toMatch(/hil-1: services need .* CPUs.*backend \(stack ×2\) 1\.8/);
  });

  it('a node outside any swarm and one inside are told apart (empty ids kept in place)', () => {
    expect(parseSwarmInfo('inactive|||false\n')).toEqual({ state: 'inactive', nodeId: '', clusterId: '', manager: false });
    expect(parseSwarmInfo('active|n1x|c9y|true')).toEqual({ state: 'active', nodeId: 'n1x', clusterId: 'c9y', manager: true });
  });

  it('the join token is read from stdin, never on a command line', () => {
    const line = render(swarmJoinCommand('10.0.0.2', '10.0.0.1'));
    expect(line).toContain('read -r t');
    expect(line).toContain('--token "$t"');
    expect(line).toContain('10.0.0.1:2377');
  });

  it('a service whose tasks sit on fewer nodes than it could use is unbalanced (a node lost and back); the edge and a one-node service are not', () => {
    const { env } = prod();
    const live = parseServices('twincigo-app_kong\ta\tcompleted\t2\ntwincigo-app_auth\tb\t\t2\ntwincigo-app_caddy\tc\t\tglobal\ntwincigo-app_meta\td\t\t1\n');
    const running = new Map([['kong', ['ash-1', 'ash-1']], ['auth', ['ash-1', 'hil-1']], ['caddy', ['ash-1']], ['meta', ['ash-1']]]);
    expect(unbalanced(env, live.values(), running, new Set(['hil-1', 'ash-1', 'ash-2']))).toEqual(['kong']);
    // hil-1 not back in the swarm yet: nothing to spread onto
    expect(unbalanced(env, live.values(), running, new Set(['ash-1', 'ash-2']))).toEqual([]);
  });

  it('deploy compares spec labels and replicas: changed, scaled by hand, new and removed services', () => {
    const text = 'services:\n  kong: { deploy: { labels: { twincigo.spec: a } } }\n  auth: { deploy: { labels: { twincigo.spec: b } } }\n  rest: { deploy: { labels: { twincigo.spec: c } } }\n';
    const live = parseServices('twincigo-app_kong\ta\tcompleted\t2\ntwincigo-app_auth\tx\t\t2\ntwincigo-app_old\tz\t\tglobal\n');
    expect(stackPlan(text, live)).toEqual({ changed: ['auth', 'rest'], removed: ['old'] });
    // replicas compared too: a service scaled by hand is put back; the edge (global) has none to compare
    const counted = 'services:\n  kong: { deploy: { labels: { twincigo.spec: a }, replicas: 2 } }\n  caddy: { deploy: { labels: { twincigo.spec: c }, mode: global } }\n';
    expect(stackPlan(counted, parseServices('twincigo-app_kong\ta\tcompleted\t3\ntwincigo-app_caddy\tc\t\tglobal\n')).changed).toEqual(['kong']);
    expect(stackPlan(counted, parseServices('twincigo-app_kong\ta\tcompleted\t2\ntwincigo-app_caddy\tc\t\tglobal\n')).changed).toEqual([]);
    const tasks = parseTasks('twincigo-app_kong.1\tlab-hil-1\tRunning 2 minutes ago\t\ntwincigo-app_kong.2\tlab-ash-1\tRunning 1 minute ago\t\ntwincigo-app_caddy.k2j3\tlab-ash-1\tStarting 1 second ago\t\n');
    expect(Object.fromEntries(runningByService(tasks))).toEqual({ kong: ['lab-ash-1', 'lab-hil-1'] });
  });

  it("Swarm's wordings for a leader being elected are waited out; other errors are not", () => {
    for (const m of ['rpc error: code = Unknown desc = The swarm does not have a leader. It\'s possible that too few managers are online.', 'node lost leader status', 'rpc error: code = Unavailable desc = no elected cluster leader']) expect(isElecting(m), m).toBe(true);
    expect(isElecting('service twincigo-app_auth not found')).toBe(false);
  });

  it('a read of the swarm is retried while its managers elect a leader (said once per try), not on another error', async () => {
    const answers = [new Error("`docker node ls` exited with 1: The swarm does not have a leader. It's possible that too few managers are online."), new Error('rpc error: code = Unknown desc = node lost leader status'), null];
    let calls = 0;
    const conn = { run: async () => {
      const a = answers[calls++];
      if (a) throw a;
      return { command: 'docker node ls', code: 0, stdout: 'lab-hil-1\tReady\tActive\n', stderr: '' };
    } } as unknown as SshConnection;
    const said: string[] = [];
    const res = await onSwarm(conn, swarmNodesCommand(), { timeoutMs: 1000, log: (s) => said.push(s) });
    expect(res.stdout).toContain('lab-hil-1');
    expect(calls).toBe(3);
    expect(said).toEqual(Array(2).fill("waiting: the swarm's managers are electing a leader"));
    calls = 0;
    const refused = { run: async () => {
      calls++;
      throw new Error('Error response from daemon: This node is not a swarm manager.');
    } } as unknown as SshConnection;
    await expect(onSwarm(refused, swarmNodesCommand(), { timeoutMs: 1000 })).rejects.toThrow(/not a swarm manager/);
    expect(calls).toBe(1);
  });

  it('a spread whose new task Swarm put beside the others (its scheduler not yet counting the node back) adds one more, then scales back', async () => {
    const { env } = prod();
    // a fake swarm: auth's two tasks on lab-hil-1 after lab-ash-1 was lost; its scheduler puts the first new task on hil-1 again
    const tasks: string[] = ['hil-1', 'hil-1'];
    let placements = 0;
    const said: string[] = [];
    const conn = { run: async (cmd: any) => {
      const text = render(cmd);
      const m = /twincigo-app_(\w+)=(\d+)/.exec(text);
      if (m) {
        const want = Number(m[2]);
        while (tasks.length < want) tasks.push(placements++ === 0 ? 'hil-1' : 'ash-1');
        // scale down: from the node with most
        while (tasks.length > want) {
          const most = ['hil-1', 'ash-1'].sort((a, b) => tasks.filter((t) => t === b).length - tasks.filter((t) => t === a).length)[0]!;
          tasks.splice(tasks.indexOf(most), 1);
        }
        said.push(`scale ${want}: ${tasks.join(' ')}`);
        return { stdout: '' };
      }
      if (text.includes('service inspect')) return { stdout: `twincigo-app_auth\tspec\tcompleted\t2\t\n` };
      if (text.includes('node ls')) return { stdout: 'hil-1\tReady\tActive\nash-1\tReady\tActive\nash-2\tReady\tActive\n' };
      if (text.includes('stack ps')) return { stdout: tasks.map((n, i) => `twincigo-app_auth.${i + 1}\t${n}\tRunning 1 second ago\t`).join('\n') };
      throw new Error(`unexpected: ${text}`);
    } } as unknown as SshConnection;
    const log: string[] = [];
    expect(await rebalance(env, conn, { log: (l) => log.push(l) })).toEqual(['auth']);
    expect(said).toEqual(['scale 3: hil-1 hil-1 hil-1', 'scale 4: hil-1 hil-1 hil-1 ash-1', 'scale 2: hil-1 ash-1']);
    expect(log).toContain('Swarm placed the new task of auth beside the others: one more');
  });

  it("a spread that does not converge says what Swarm's tasks wait for", () => {
    const tasks = parseTasks([
      'twincigo-app_auth.1\tlab-hil-1\tRunning 3 minutes ago\t',
      'twincigo-app_auth.2\tlab-hil-1\tRunning 3 minutes ago\t',
      'twincigo-app_auth.3\t\tPending 2 minutes ago\tno suitable node (insufficient resources on 2 nodes)',
      'twincigo-app_kong.1\tlab-ash-1\tStarting less than a second ago\t',
    ].join('\n'));
    expect(tasksSaid(tasks, 'auth')).toBe('2 running (lab-hil-1, lab-hil-1), Pending (no suitable node (insufficient resources on 2 nodes))');
    expect(tasksSaid(tasks, 'kong')).toBe('0 running, Starting on lab-ash-1');
  });

  it('status says why the app tier is unknown: an election is a moment, not a lost swarm', () => {
    const { env } = prod();
    expect(stackWarnings({ stack: null, why: 'its managers are electing a leader (a manager was cut off or restarted): ask again in a few seconds' }, env)).toEqual(['Swarm: the app tier is unknown — its managers are electing a leader (a manager was cut off or restarted): ask again in a few seconds']);
    expect(stackWarnings({ stack: null }, env)).toEqual(['Swarm: the app tier is unknown — no manager answered']);
  });
});
