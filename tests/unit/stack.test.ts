import { ALL_SUPABASE } from '../../src/config/supabase-services.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, UsageError } from '../../src/errors.js';
import type { EnvValues } from '../../src/config/env-file.js';
import type { EnvironmentConfig, NodeConfig } from '../../src/config/model.js';
import { haproxyConfig } from '../../src/stack/haproxy-config.js';
import { memoryParameters, PATRONI_MEMORY_MIB, patroniConfig } from '../../src/stack/patroni-config.js';
import { renderNode } from '../../src/stack/bundle.js';
import { renderGated as renderEnvironment } from '../../src/operations/gate.js';
import { checkFits, parseCompose, serviceLimits } from '../../src/stack/resources.js';
import { imageKeysFor } from '../../src/stack/compose-files.js';
import { PATRONI_TIMINGS, etcdTimings } from '../../src/stack/timings.js';
import { signSupabaseKey } from '../../src/secrets/jwt.js';
import { isSecretKey } from '../../src/config/env-keys.js';

const node = (name: string, ip: string, roles: NodeConfig['roles']): NodeConfig => ({ name, host: `203.0.113.${ip.split('.')[3]}`, privateAddress: ip, roles, nosync: false, ssh: {} });
const nodes = [
  node('hil-1', '10.0.0.1', ['etcd', 'patroni', 'haproxy', 'supabase', 'storage']),
  node('ash-1', '10.0.0.2', ['etcd', 'patroni', 'haproxy', 'backend', 'redis']),
  node('ash-2', '10.0.0.3', ['etcd', 'patroni', 'haproxy', 'monitoring']),
];
/** The shipped prod shape: MinIO (storage) beside the backend, not Supabase. */
const prodNodes = () => [
  node('hil-1', '10.0.0.1', ['etcd', 'patroni', 'haproxy', 'supabase', 'storage']),
  node('ash-1', '10.0.0.2', ['etcd', 'patroni', 'haproxy', 'backend', 'redis']),
  node('ash-2', '10.0.0.3', ['etcd', 'patroni', 'haproxy', 'monitoring']),
];
const envOf = (profile: 'dev' | 'prod'): EnvironmentConfig => ({ name: profile, profile, baseDir: '/opt/twincigo-crm', envFile: '/x/.env', initialLeader: 'hil-1', rttMs: 70, synchronous: profile === 'prod', supabase: ALL_SUPABASE, postgresParameters: {}, nodes });
const SECRETS: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-Kq8vT2mZ5xW9pLsPG',
  REPLICATION_PASSWORD: 'repl-Kq8vT2mZ5xW9pLsRE',
  REWIND_PASSWORD: 'rewind-Kq8vT2mZ5xW9pLsRE',
  PATRONI_RESTAPI_PASSWORD: 'rest-Kq8vT2mZ5xW9pLsRE',
  PGSODIUM_ROOT_KEY: 'a'.repeat(64),
  HAPROXY_STATS_PASSWORD: 'stats-Kq8vT2mZ5xW9pLsST',
  REDIS_PASSWORD: 'redis-Kq8vT2mZ5xW9pLsRE',
  JWT_SECRET: 'Jq4vX9mT2kLp8wRz5nYc3bHf6gDs1aZe7uNi',
  ANON_KEY: signSupabaseKey('Jq4vX9mT2kLp8wRz5nYc3bHf6gDs1aZe7uNi', 'anon'),
  SERVICE_ROLE_KEY: signSupabaseKey('Jq4vX9mT2kLp8wRz5nYc3bHf6gDs1aZe7uNi', 'service_role'),
  DASHBOARD_PASSWORD: 'dash-Kq8vT2mZ5xW9pLsDA',
  SECRET_KEY_BASE: 'skb-Kq8vT2mZ5xW9pLsSK-Zr4Tb8Nw2Qy6Hm',
  VAULT_ENC_KEY: 'vault-Kq8vT2mZ5xW9pLsVA-Ub7Jc3Xe9Lp',
  PG_META_CRYPTO_KEY: 'meta-Kq8vT2mZ5xW9pLsPM-Wc5Rd1Tz8Vb',
  PGBACKREST_TLS_SEED: 'seed-Kq8vT2mZ5xW9pLsTS-Hn4Ju7Mk1Pq',
  BACKEND_DB_PASSWORD: 'backend-Kq8vT2mZ5xW9pLsBA',
  GRAFANA_ADMIN_PASSWORD: 'grafana-Kq8vT2mZ5xW9pLsGR',
  MINIO_ROOT_PASSWORD: 'minio-Kq8vT2mZ5xW9pLsMI',
  STORAGE_S3_ACCESS_KEY: '5f0c2a9e7b1d4c3a8e6f',
  STORAGE_S3_SECRET_KEY: 'storage-Kq8vT2mZ5xW9pLsST',
};
/** Every image a prod node may run, pinned by digest (prod refuses a tag); ours from the team's registry. */
const PINNED = Object.fromEntries(
  [...imageKeysFor(['etcd', 'patroni', 'haproxy', 'supabase', 'storage', 'backend', 'redis', 'monitoring', 'logs'], { profile: 'prod' }).keys()].map((k, i) => [
    k,
    `${k === 'PATRONI_IMAGE' ? 'registry.twincigo.example/twincigo/patroni' : k.toLowerCase().replace(/_image$/, '')}@sha256:${String(i).padStart(2, '0').repeat(32)}`,
  ]),
);
const values = (extra: Record<string, string> = {}): EnvValues => ({
  file: '/x/.env.dev',
  exists: true,
  problems: [],
  values: { ...SECRETS, DASHBOARD_USERNAME: 'supabase', SITE_URL: 'https://app', API_EXTERNAL_URL: 'https://api', BACKEND_IMAGE: 'ghcr.io/twincigo/backend:1.2.3', MINIO_ROOT_USER: 'twincigo', ACME_EMAIL: 'ops@twincigo.example', ALERT_WEBHOOK_URL: 'https://hooks.slack.example/services/T0/B0/x', ...PINNED, ...extra },
});

describe('timings', () => {
  it('Patroni: ttl ≥ 20 and loop_wait + 2 × retry_timeout ≤ ttl', () => {
    expect(PATRONI_TIMINGS.ttl).toBeGreaterThanOrEqual(20);
    expect(PATRONI_TIMINGS.loop_wait + 2 * PATRONI_TIMINGS.retry_timeout).toBeLessThanOrEqual(PATRONI_TIMINGS.ttl);
  });
  it('etcd: heartbeat ≈ RTT with margin, election ≥ 10 × heartbeat, never below the defaults', () => {
    expect(etcdTimings(1)).toEqual({ heartbeatMs: 100, electionMs: 1000 });
    expect(etcdTimings(70)).toEqual({ heartbeatMs: 110, electionMs: 1100 });
    expect(etcdTimings(200)).toEqual({ heartbeatMs: 300, electionMs: 3000 });
  });
  it('etcd: an RTT whose election would not fit inside Patroni\'s retry_timeout is refused', () => {
    expect(() => etcdTimings(400)).toThrow(UsageError);
  });
});

describe('patroni.yml', () => {
  it('PostgreSQL memory fits the container: shared_buffers a quarter of its limit, effective_cache_size within it (both profiles)', () => {
    const mib = (v: string) => Number(/^(\d+)MB$/.exec(v)![1]);
    for (const profile of ['dev', 'prod'] as const) {
      const env = envOf(profile);
      const bundle = renderNode(env, nodes[0]!, values());
      const limit = serviceLimits(bundle.files.filter((f) => bundle.composeFiles.includes(f.path))).find((l) => l.service === 'patroni')!.memoryMiB!;
      expect(limit, `${profile}: PATRONI_MEMORY_MIB follows compose`).toBe(PATRONI_MEMORY_MIB[profile]);
      const p = parse(bundle.files.find((f) => f.path === 'config/patroni/patroni.yml')!.content).bootstrap.dcs.postgresql.parameters;
      expect(mib(p.shared_buffers)).toBeLessThanOrEqual(limit / 4);
      expect(mib(p.effective_cache_size)).toBeLessThanOrEqual(limit);
    }
    expect(memoryParameters(16384)).toEqual({ shared_buffers: '4096MB', effective_cache_size: '12288MB' });
  });

  const doc = (profile: 'dev' | 'prod') => parse(patroniConfig(envOf(profile), nodes[1]!, values().values));
  it('names the node, advertises its cluster address, lists every etcd member', () => {
    const d = doc('dev');
    expect(d.name).toBe('ash-1');
    expect(d.restapi.connect_address).toBe('10.0.0.2:8008');
    expect(d.postgresql.connect_address).toBe('10.0.0.2:5432');
    expect(d.etcd3.hosts).toEqual(['10.0.0.1:2379', '10.0.0.2:2379', '10.0.0.3:2379']);
  });
  it('limits pg_hba to the cluster addresses', () => {
    const hba: string[] = doc('dev').postgresql.pg_hba;
    const hosts = hba.filter((l) => l.startsWith('host')).map((l) => l.split(/\s+/)[3]);
    expect(new Set(hosts)).toEqual(new Set(['127.0.0.1/32', '10.0.0.1/32', '10.0.0.2/32', '10.0.0.3/32']));
    expect(hba.join('\n')).not.toMatch(/0\.0\.0\.0\/0|trust/);
  });
  it('synchronous replication is an environment setting (prod on, dev off by default); nosync members are never the synchronous standby', () => {
    const sync = parse(patroniConfig({ ...envOf('dev'), synchronous: true }, { ...nodes[2]!, nosync: true }, values().values));
    expect(sync.bootstrap.dcs).toMatchObject({ synchronous_mode: true, synchronous_mode_strict: false });
    expect(sync.tags.nosync).toBe(true);
    expect(parse(patroniConfig({ ...envOf('prod'), synchronous: false }, nodes[0]!, values().values)).bootstrap.dcs.synchronous_mode).toBe(false);
    expect(parse(patroniConfig(envOf('prod'), nodes[0]!, values().values)).tags.nosync).toBe(false);
  });

  it('has the HA settings: timings, pg_rewind, wal_log_hints, checksums, logical WAL; synchronous mode only in prod', () => {
    const d = doc('dev');
    expect(d.bootstrap.dcs).toMatchObject({ ttl: 20, loop_wait: 8, retry_timeout: 6, synchronous_mode: false });
    expect(d.bootstrap.dcs.postgresql.use_pg_rewind).toBe(true);
    expect(d.bootstrap.dcs.postgresql.parameters).toMatchObject({ wal_level: 'logical', wal_log_hints: 'on', wal_retrieve_retry_interval: '1s' });
    expect(d.bootstrap.initdb).toContain('data-checksums');
    expect(doc('prod').bootstrap.dcs.synchronous_mode).toBe(true);
  });
  it('holds no secret value (they come from the environment)', () => {
    const text = patroniConfig(envOf('prod'), nodes[0]!, values().values);
    for (const v of Object.values(SECRETS)) expect(text).not.toContain(v);
  });
  it('preloads Supabase\'s libraries (with the shared pgsodium key script) unless the image says otherwise', () => {
    expect(doc('dev').bootstrap.dcs.postgresql.parameters['pgsodium.getkey_script']).toBe('/usr/local/bin/pgsodium-getkey');
    const lab = parse(patroniConfig(envOf('dev'), nodes[0]!, { POSTGRES_PRELOAD_LIBRARIES: 'pg_stat_statements' }));
    expect(lab.bootstrap.dcs.postgresql.parameters.shared_preload_libraries).toBe('pg_stat_statements');
    expect(lab.bootstrap.dcs.postgresql.parameters['pgsodium.getkey_script']).toBeUndefined();
  });
});

describe('haproxy.cfg', () => {
  const cfg = haproxyConfig(nodes);
  it('routes 5000 to /primary and 5001 to /replica with a lag limit, checking Patroni on 8008', () => {
    expect(cfg).toMatch(/listen primary\n  bind \*:5000\n  option httpchk GET \/primary/);
    expect(cfg).toMatch(/listen replicas\n  bind \*:5001\n  balance roundrobin\n  option httpchk GET \/replica\?lag=16MB/);
    expect(cfg.match(/server hil-1 10\.0\.0\.1:5432 check port 8008/g)).toHaveLength(2);
    expect(cfg).toMatch(/listen primary\n(?:.*\n)*?  option redispatch 1\n(?:.*\n)*?  default-server inter 500ms fastinter 250ms downinter 250ms fall 2 rise 1 on-marked-down shutdown-sessions/);
    expect(cfg).toMatch(/listen replicas\n(?:.*\n)*?  default-server inter 1s fastinter 250ms downinter 250ms fall 2 rise 1 on-marked-down shutdown-sessions/);
    expect(cfg).toContain('timeout connect 500ms');
  });
  it('protects the stats page with a password from the environment, not in the file', () => {
    expect(cfg).toContain('stats auth "admin:${HAPROXY_STATS_PASSWORD}"');
  });
});

describe('per-node bundles', () => {
  it('gives each node the compose files of its roles, in role order, and its config files', () => {
    const b = renderNode(envOf('dev'), nodes[0]!, values());
    expect(b.composeFiles.slice(0, 3)).toEqual(['compose/etcd.yml', 'compose/patroni.yml', 'compose/haproxy.yml']);
    const paths = b.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['config/patroni/patroni.yml', 'config/haproxy/haproxy.cfg', 'images/patroni/Dockerfile', 'config/kong.yml', '.env']));
    expect(b.composeFiles).toContain('compose/supabase.yml');
  });

  it('Supabase has no analytics/logflare or vector, nothing depends on them, nothing binds 5432, and it reaches Postgres only through HAProxy', () => {
    const b = renderNode(envOf('prod'), nodes[0]!, values());
    // the files say so in comments; what counts is what they define
    const text = b.files.filter((f) => b.composeFiles.includes(f.path)).map((f) => JSON.stringify(parseCompose(f.content))).join('\n');
    expect(text).not.toMatch(/logflare|analytics:|vector:|supavisor/i);
    expect(text).not.toMatch(/"?5432:5432"?/);
    const supabase = parseCompose(b.files.find((f) => f.path === 'compose/supabase.yml')!.content) as any;
    for (const [name, svc] of Object.entries<any>(supabase.services)) {
      const env = JSON.stringify(svc.environment ?? {});
      if (/postgres:\/\/|DB_HOST|PG_META_DB_HOST/.test(env)) expect(env, name).toMatch(/host\.docker\.internal:5000|"DB_PORT":5000|"PG_META_DB_PORT":5000/);
    }
  });

  it('prod renders Prometheus targets for every node and ships the alerting rules', () => {
    const b = renderNode(envOf('prod'), nodes[2]!, values());
    const prom = parse(b.files.find((f) => f.path === 'config/prometheus/prometheus.yml')!.content);
    expect(prom.scrape_configs.find((j: any) => j.job_name === 'patroni').static_configs.map((c: any) => c.targets[0])).toEqual(['10.0.0.1:8008', '10.0.0.2:8008', '10.0.0.3:8008']);
    const alerts = b.files.find((f) => f.path === 'config/prometheus/alerts.yml')!.content;
    for (const a of ['PatroniNoLeader', 'ReplicationLagHigh', 'EtcdNoQuorum', 'DiskAlmostFull']) expect(alerts).toContain(a);
    expect(renderNode(envOf('dev'), nodes[2]!, values()).files.map((f) => f.path)).not.toContain('config/prometheus/prometheus.yml');
  });

  it('every compose service pins its image (no latest) and lets the env override it', () => {
    for (const n of nodes) {
      const b = renderNode(envOf('prod'), n, values());
      for (const f of b.files.filter((x) => b.composeFiles.includes(x.path))) {
        for (const [name, svc] of Object.entries<any>((parseCompose(f.content) as any).services ?? {})) {
          if (!svc.image) continue; // an override file that only changes limits
          expect(svc.image, `${f.path}: ${name}`).toMatch(/^\$\{[A-Z_]+_IMAGE(:-[^}:]+:[^}]+|:\?[^}]+)\}$/);
          expect(svc.image).not.toMatch(/:latest\}/);
        }
      }
    }
  });
  it('.env is 0600 and holds only the secrets the node\'s roles need', () => {
    const hil = renderNode(envOf('dev'), nodes[0]!, values()).files.find((f) => f.path === '.env')!;
    expect(hil).toMatchObject({ mode: 0o600, secret: true });
    expect(hil.content).toContain(`POSTGRES_PASSWORD=${SECRETS.POSTGRES_PASSWORD}`);
    expect(hil.content).not.toContain('REDIS_PASSWORD'); // no redis/backend on hil-1
    expect(hil.content).not.toContain('GRAFANA_ADMIN_PASSWORD');
    expect(hil.content).toMatch(/^ETCD_INITIAL_CLUSTER=hil-1=http:\/\/10\.0\.0\.1:2380,ash-1=http:\/\/10\.0\.0\.2:2380,ash-2=http:\/\/10\.0\.0\.3:2380$/m);
    expect(hil.content).toMatch(/^ETCD_HEARTBEAT_MS=110$/m);
    expect(hil.content).toMatch(/^NODE_IP=10\.0\.0\.1$/m);
    const ash1 = renderNode(envOf('dev'), nodes[1]!, values(), { etcdState: 'existing' }).files.find((f) => f.path === '.env')!;
    expect(ash1.content).toContain(`REDIS_PASSWORD=${SECRETS.REDIS_PASSWORD}`);
    expect(ash1.content).toMatch(/^ETCD_INITIAL_CLUSTER_STATE=existing$/m);
  });
  it('every other file (but alertmanager.yml, which holds the receivers secrets) is 0644 and free of secret values', () => {
    for (const n of nodes) {
      for (const f of renderNode(envOf('prod'), n, values()).files.filter((x) => x.path !== '.env' && x.path !== 'config/alertmanager/alertmanager.yml')) {
        expect(f.secret).toBe(false);
        for (const v of Object.values(SECRETS)) expect(f.content, `${n.name}:${f.path}`).not.toContain(v);
      }
    }
  });
  it('a missing secret is exit 2 naming the key, the role and the nodes — and nothing is rendered', () => {
    const v = values();
    delete v.values.REPLICATION_PASSWORD;
    v.values.JWT_SECRET = 'short';
    try {
      renderEnvironment(envOf('dev'), nodes, v);
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems).toContain('REPLICATION_PASSWORD is missing — password of the replication user (needed by patroni on hil-1, ash-1, ash-2)');
      expect(problems).toContain('JWT_SECRET is only 5 characters (at least 32); generate one: twincigo secrets init --env dev --rotate JWT_SECRET');
    }
  });
  it("prod needs ACME_EMAIL (Caddy's Let's Encrypt account), and a real address", () => {
    const prodEnv = { ...envOf('prod'), nodes: prodNodes() };
    expect(() => renderEnvironment(prodEnv, prodEnv.nodes, values({ ACME_EMAIL: '' }))).toThrow(/ACME_EMAIL is missing — the address Let's Encrypt writes to/);
    expect(() => renderEnvironment(prodEnv, prodEnv.nodes, values({ ACME_EMAIL: 'not-an-address' }))).toThrow(/ACME_EMAIL=not-an-address is not an email address/);
    expect(renderEnvironment(prodEnv, prodEnv.nodes, values()).length).toBe(3);
    expect(() => renderEnvironment(envOf('dev'), nodes, values({ ACME_EMAIL: '' }))).not.toThrow();
  });

  it('placeholder and weak secrets are refused by render (not only by env check)', () => {
    const v = values({ POSTGRES_PASSWORD: 'changeme', REDIS_PASSWORD: 'hunter2', GRAFANA_ADMIN_PASSWORD: 'passwordpassword1' });
    expect(() => renderEnvironment(envOf('dev'), nodes, v)).toThrow(ConfigError);
    try {
      renderEnvironment(envOf('dev'), nodes, v);
    } catch (err) {
      const problems = (err as ConfigError).problems;
      expect(problems).toContain('POSTGRES_PASSWORD still has a placeholder value');
      expect(problems).toContain('REDIS_PASSWORD is only 7 characters (at least 16); generate one: twincigo secrets init --env dev --rotate REDIS_PASSWORD');
      expect(problems).toContain('GRAFANA_ADMIN_PASSWORD is made of common words (and digits): easy to guess; generate one: twincigo secrets init --env dev --rotate GRAFANA_ADMIN_PASSWORD');
    }
  });
  it('an ANON_KEY not signed with JWT_SECRET is refused before anything is rendered', () => {
    const v = values({ ANON_KEY: signSupabaseKey('k'.repeat(40), 'anon') });
    expect(() => renderEnvironment(envOf('dev'), nodes, v)).toThrow(/ANON_KEY is not signed with JWT_SECRET \(JWSInvalidSignature\)/);
  });
});

describe('prod images', () => {
  it('prod refuses an image not pinned by digest (a compose default is a tag), and ours from no registry; dev does not', () => {
    const env = { ...envOf('prod'), nodes: prodNodes() };
    const v = values({ CADDY_IMAGE: 'caddy:2.8.4', PATRONI_IMAGE: `twincigo/patroni@sha256:${'a'.repeat(64)}`, GRAFANA_IMAGE: '' });
    let problems: string[] = [];
    try {
      renderEnvironment(env, env.nodes, v);
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual(expect.arrayContaining([
      'CADDY_IMAGE=caddy:2.8.4 is not pinned by digest: prod runs <image>@sha256:<digest> (docker buildx imagetools inspect <image> shows it)',
      `PATRONI_IMAGE=twincigo/patroni@sha256:${'a'.repeat(64)} names no registry: our Patroni image is pulled only from the registry CI pushes it to (registry.example.com/…), never by a bare public name`,
      'GRAFANA_IMAGE is not set: prod runs images pinned by digest, and the default grafana/grafana:11.4.0 is a tag — set GRAFANA_IMAGE=<image>@sha256:<digest>',
    ]));
    expect(problems).toHaveLength(3);
    expect(() => renderEnvironment(envOf('dev'), nodes, v)).not.toThrow();
  });
});

describe('alertmanager.yml', () => {
  it('rendered for the monitoring node from the env file, a 0600 secret; the webhook URL in no .env and never with the other settings', () => {
    const env = { ...envOf('prod'), nodes: prodNodes() };
    const url = 'https://hooks.slack.example/services/T0/B0/secret-path';
    const bundles = renderEnvironment(env, env.nodes, values({ ALERT_WEBHOOK_URL: url }));
    const am = bundles.find((b) => b.node === 'ash-2')!.files.find((f) => f.path === 'config/alertmanager/alertmanager.yml')!;
    expect(am).toMatchObject({ mode: 0o600, secret: true });
    expect(am.content).toContain(`api_url: ${url}`);
    for (const b of bundles) expect(b.files.find((f) => f.path === '.env')!.content).not.toContain('secret-path');
    expect(isSecretKey('ALERT_WEBHOOK_URL')).toBe(true);
  });
});

describe('published ports', () => {
  it('prod publishes on every interface only the edge (80/443); the backend on the cluster address; MinIO nothing', () => {
    const env = { ...envOf('prod'), nodes: prodNodes() };
    for (const n of env.nodes) {
      const b = renderNode(env, n, values());
      // merged as compose merges the files: later ports are added, `!reset []` (read as []) clears them, `!override` replaces them
      const ports = new Map<string, string[]>();
      for (const f of b.files.filter((x) => b.composeFiles.includes(x.path))) {
        const doc = parseCompose(f.content) as { services?: Record<string, { ports?: unknown[] } | null> };
        for (const [service, def] of Object.entries(doc.services ?? {})) {
          if (!def?.ports) continue;
          const override = new RegExp(`\\n  ${service}:\\n(?:    .*\\n)*?    ports: !override`).test(f.content);
          ports.set(service, def.ports.length === 0 ? [] : [...(override ? [] : (ports.get(service) ?? [])), ...def.ports.map(String)]);
        }
      }
      for (const [service, list] of ports) {
        for (const p of list) {
          const everyInterface = /^\d+:\d+$/.test(p) || /^\$\{[A-Z_]+(:-\d+)?\}:\d+$/.test(p);
          if (everyInterface) expect(['caddy 80:80', 'caddy 443:443'], `${n.name}: ${service} publishes ${p}`).toContain(`${service} ${p}`);
        }
      }
      if (n.roles.includes('backend')) expect(ports.get('backend')).toEqual(['${NODE_IP}:8080:8080']);
      expect(ports.get('minio')).toBeUndefined();
    }
  });
});

describe('resource limits', () => {
  it('every dev node\'s services fit a CCX13 (2 vCPU, 8 GB)', () => {
    for (const n of nodes) {
      const b = renderNode(envOf('dev'), n, values());
      const limits = serviceLimits(b.files.filter((f) => b.composeFiles.includes(f.path)));
      expect(limits.length).toBeGreaterThan(0);
      expect(checkFits(n.name, envOf('dev'), limits)).toEqual([]);
    }
  });
  it('every prod node\'s services (prod overrides, exporters, MinIO beside Supabase on hil-1 as in twincigo.yml) fit a CCX33 (8 vCPU, 32 GB)', () => {
    const env = { ...envOf('prod'), nodes: prodNodes() };
    expect(renderEnvironment(env, env.nodes, values()).map((b) => b.node)).toEqual(['hil-1', 'ash-1', 'ash-2']);
    for (const n of env.nodes) {
      const b = renderNode(env, n, values());
      expect(b.composeFiles.some((f) => f.startsWith('compose/prod/'))).toBe(true);
      expect(checkFits(n.name, env, serviceLimits(b.files.filter((f) => b.composeFiles.includes(f.path))))).toEqual([]);
    }
  });

  it('another nodeSize: every limit scaled into a rendered limits.yml, PostgreSQL sized from the scaled limit, and it fits', () => {
    const env = { ...envOf('prod'), nodes: prodNodes(), nodeSize: { cpus: 2, memoryMiB: 8192 } };
    const b = renderNode(env, env.nodes[0]!, values());
    expect(b.composeFiles.at(-1)).toBe('limits.yml');
    const limits = serviceLimits(b.files.filter((f) => b.composeFiles.includes(f.path)));
    // prod's 3 CPUs / 16 GiB for Patroni, on a quarter of a CCX33
    expect(limits.find((l) => l.service === 'patroni')).toMatchObject({ cpus: 0.75, memoryMiB: 4096, file: 'limits.yml' });
    expect(checkFits('hil-1', env, limits)).toEqual([]);
    expect(b.files.find((f) => f.path === 'config/patroni/patroni.yml')!.content).toContain('shared_buffers: 1024MB');
    // the profile's own size: no limits.yml
    expect(renderNode({ ...env, nodeSize: { cpus: 8, memoryMiB: 32768 } }, env.nodes[0]!, values()).composeFiles).not.toContain('limits.yml');
  });

  it('an over-committed node and a service without limits are named', () => {
    const files = [{ path: 'compose/x.yml', content: 'services:\n  a:\n    deploy: {resources: {limits: {cpus: "1.5", memory: 6G}}}\n  b:\n    deploy: {resources: {limits: {cpus: "1", memory: 2G}}}\n  c:\n    image: x\n' }];
    const problems = checkFits('ash-1', envOf('dev'), serviceLimits(files));
    expect(problems).toContain('ash-1: service c (compose/x.yml) has no cpus/memory limit');
    expect(problems.find((p) => p.startsWith('ash-1: services need 2.50 CPUs, the dev node has 2'))).toBeTruthy();
    expect(problems.find((p) => p.startsWith('ash-1: services need 8192 MiB of memory, the dev node has 7424 MiB'))).toBeTruthy();
  });
  it('later files override earlier limits, as compose merges them', () => {
    const limits = serviceLimits([
      { path: 'compose/patroni.yml', content: 'services:\n  patroni:\n    deploy: {resources: {limits: {cpus: "0.6", memory: 2560M}}}\n' },
      { path: 'compose/prod/patroni.yml', content: 'services:\n  patroni:\n    deploy: {resources: {limits: {cpus: "4", memory: 20G}}}\n' },
    ]);
    expect(limits).toEqual([{ service: 'patroni', file: 'compose/prod/patroni.yml', cpus: 4, memoryMiB: 20480 }]);
  });
});

describe('Supabase SQL', () => {
  it('creates every role and schema only when missing, sets passwords as literals, and skips missing extensions with a warning', async () => {
    const { supabaseSql, literal } = await import('../../src/stack/supabase-sql.js');
    const sql = supabaseSql({ postgresPassword: "it's-secret", backendPassword: 'b', jwtExpiry: '7200' });
    for (const r of ['anon', 'authenticated', 'service_role', 'authenticator', 'supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin', 'supabase_functions_admin', 'supabase_replication_admin', 'supabase_read_only_user', 'dashboard_user']) {
      expect(sql).toContain(`IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${r}') THEN CREATE ROLE ${r} `);
    }
    for (const s of ['auth', 'storage', '_realtime', 'extensions', 'graphql_public']) expect(sql).toMatch(new RegExp(`CREATE SCHEMA IF NOT EXISTS ${s}\\b`));
    expect(sql).toContain("ALTER ROLE authenticator WITH PASSWORD 'it''s-secret';");
    expect(sql).toContain(`ALTER DATABASE postgres SET "app.settings.jwt_exp" TO '7200';`);
    expect(sql).toMatch(/RAISE WARNING 'twincigo: optional extension % is not available in this image: skipped', ext/);
    // an extension whose control file pins its schema is created there, never WITH SCHEMA extensions
    expect(sql).toMatch(/IF pinned IS NOT NULL THEN\s+EXECUTE format\('CREATE EXTENSION %I CASCADE', ext\);/);
    // what postgres (migrate) and supabase_admin (Studio) create in public reaches the API roles
    for (const owner of ['postgres', 'supabase_admin']) expect(sql).toContain(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;`);
    expect(sql).toContain("CREATE PUBLICATION supabase_realtime;");
    expect(literal("a'b")).toBe("'a''b'");
    expect(() => literal('a\0b')).toThrow();
  });
});

describe('config reloads', () => {
  it('maps changed config files to their service once, with the way it takes them', async () => {
    const { CONFIG_RELOAD, reloadCommand, servicesToReload } = await import('../../src/stack/reload.js');
    const { render } = await import('../../src/remote/shell.js');
    const r = servicesToReload(['config/haproxy/haproxy.cfg', 'config/prometheus/prometheus.yml', 'config/prometheus/alerts.yml', 'compose/etcd.yml'], ['haproxy', 'prometheus', 'etcd']);
    expect(r.map((x) => x.service)).toEqual(['haproxy', 'prometheus']);
    expect(render(reloadCommand(r[0]!))).toBe(`docker exec twincigo-haproxy-1 sh -c 'kill -s "$1" 1' sh USR2`);
    // never `docker kill --signal`: Docker would count the container as stopped by hand and not start it after a reboot
    expect(CONFIG_RELOAD.filter((c) => c.how !== 'restart').map((c) => render(reloadCommand(c))).some((cmd) => cmd.includes('docker kill'))).toBe(false);
    expect(servicesToReload(['config/kong.yml'], ['kong']).map((x) => render(reloadCommand(x)))).toEqual(['docker restart twincigo-kong-1']);
    expect(servicesToReload(['config/haproxy/haproxy.cfg'], ['patroni'])).toEqual([]);
  });

  it('every config file a render makes (dev and prod) is taken up by its service after a deploy: none is read only at start unnoticed', async () => {
    const { CONFIG_RELOAD, READ_LIVE } = await import('../../src/stack/reload.js');
    const prodEnv = { ...envOf('prod'), nodes: prodNodes() };
    const paths = new Set([...renderEnvironment(envOf('dev'), nodes, values()), ...renderEnvironment(prodEnv, prodEnv.nodes, values())].flatMap((b) => b.files.map((f) => f.path)).filter((p) => p.startsWith('config/')));
    // the dashboard JSON is one file per dashboard: its entry names the shipped one
    expect([...paths].filter((p) => !CONFIG_RELOAD.some((c) => c.file === p) && !READ_LIVE.includes(p)).sort()).toEqual([]);
  });
});
