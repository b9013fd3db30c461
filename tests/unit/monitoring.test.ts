import { ALL_SUPABASE } from '../../src/config/supabase-services.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { EnvironmentConfig, NodeConfig } from '../../src/config/model.js';
import { envProblems } from '../../src/secrets/check.js';
import { alertmanagerConfig, alertReceivers } from '../../src/stack/alertmanager-config.js';
import { blackboxConfig, prometheusConfig } from '../../src/stack/prometheus-config.js';
import { REPO } from '../helpers/cli.js';

/**
 * The monitoring configs as Prometheus and Alertmanager read them: Debian's promtool and amtool
 * (tests/setup-machine.sh installs them) check the rendered files and run every rule's test.
 */
const tool = (name: string) => {
  const found = spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
  if (!found) throw new Error(`${name} is not installed: run tests/setup-machine.sh (Debian packages prometheus, prometheus-alertmanager)`);
  return name;
};
const run = (cmd: string, args: string[]) => spawnSync(tool(cmd), args, { encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'twincigo-monitoring-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const node = (name: string, ip: string, roles: NodeConfig['roles']): NodeConfig => ({ name, host: ip, privateAddress: ip, roles, nosync: false, ssh: {} });
const nodes = [
  node('hil-1', '10.0.0.1', ['etcd', 'patroni', 'haproxy', 'supabase', 'storage']),
  node('ash-1', '10.0.0.2', ['etcd', 'patroni', 'haproxy', 'backend', 'redis']),
  node('ash-2', '10.0.0.3', ['etcd', 'patroni', 'haproxy', 'monitoring']),
];
const edge = (issuer: string) => ({ node: nodes[0]!, publicHost: 'api.twincigo.example', issuer });
const env = (profile: 'dev' | 'prod'): EnvironmentConfig => ({ name: profile, profile, baseDir: '/opt/t', envFile: '/x', initialLeader: 'hil-1', rttMs: 70, synchronous: profile === 'prod', supabase: ALL_SUPABASE, postgresParameters: {}, nodes });

describe('alerting rules (promtool)', () => {
  it('every rule tested: the firing cases and silence on a healthy cluster, the leader not "lagging"', () => {
    const r = run('promtool', ['test', 'rules', `${REPO}tests/unit/prometheus/alerts.test.yml`]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
    // every alert of the rule file is expected to fire in some scenario
    const rules = [...readFileSync(`${REPO}compose/config/alerts.yml`, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tests = readFileSync(`${REPO}tests/unit/prometheus/alerts.test.yml`, 'utf8');
    expect(rules.length).toBeGreaterThan(5);
    for (const a of rules) expect(tests, a).toMatch(new RegExp(`alertname: ${a}\\n        exp_alerts:\\n`));
  });

  it('promtool check rules, and check config on the rendered prometheus.yml', () => {
    const rules = run('promtool', ['check', 'rules', `${REPO}compose/config/alerts.yml`]);
    expect(rules.status, rules.stdout + rules.stderr).toBe(0);
    // the rendered file names its rules at the container's path: checked here beside a copy
    writeFileSync(join(tmp, 'alerts.yml'), readFileSync(`${REPO}compose/config/alerts.yml`));
    for (const e of [undefined, edge('acme@twincigo.example')]) {
      writeFileSync(join(tmp, 'prometheus.yml'), prometheusConfig(nodes, e).replace('/etc/prometheus/alerts.yml', join(tmp, 'alerts.yml')));
      const cfg = run('promtool', ['check', 'config', join(tmp, 'prometheus.yml')]);
      expect(cfg.status, cfg.stdout + cfg.stderr).toBe(0);
    }
  });

  it("the edge probe: scraped through the blackbox exporter with the URL as its target; the exporter's own --config.check accepts its module", () => {
    const doc = parse(prometheusConfig(nodes, edge('acme@twincigo.example'))) as any;
    const job = doc.scrape_configs.find((j: any) => j.job_name === 'edge');
    expect(job.static_configs).toEqual([{ targets: ['https://10.0.0.1/api/health'], labels: { node: 'hil-1', issuer: 'acme' } }]);
    expect(job.relabel_configs.at(-1)).toEqual({ target_label: '__address__', replacement: 'blackbox:9115' });
    expect(parse(prometheusConfig(nodes, edge('internal'))).scrape_configs.at(-1).static_configs[0].labels.issuer).toBe('internal');
    for (const issuer of ['acme@twincigo.example', 'internal']) {
      const file = join(tmp, `blackbox-${issuer}.yml`);
      writeFileSync(file, blackboxConfig(edge(issuer)));
      const r = run('prometheus-blackbox-exporter', ['--config.check', `--config.file=${file}`]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      // a public certificate is verified; Caddy's internal CA is not in the exporter's trust store
      expect((parse(readFileSync(file, 'utf8')) as any).modules.edge.http.tls_config).toEqual({ server_name: 'api.twincigo.example', insecure_skip_verify: issuer === 'internal' });
    }
    // the check can fail: a misspelt option is refused
    const bad = join(tmp, 'blackbox-bad.yml');
    writeFileSync(bad, blackboxConfig(edge('internal')).replace('fail_if_not_ssl', 'fail_if_no_ssl'));
    expect(run('prometheus-blackbox-exporter', ['--config.check', `--config.file=${bad}`]).status).not.toBe(0);
  });
});

describe('Alertmanager receivers', () => {
  const variants: Record<string, Record<string, string>> = {
    slack: { ALERT_WEBHOOK_URL: 'https://hooks.slack.example/services/T0/B0/x' },
    discord: { ALERT_WEBHOOK_URL: 'https://discord.example/api/webhooks/1/x', ALERT_WEBHOOK_KIND: 'discord' },
    webhook: { ALERT_WEBHOOK_URL: 'http://10.0.0.9:9000/alerts', ALERT_WEBHOOK_KIND: 'webhook' },
    email: { ALERT_EMAIL_TO: 'ops@twincigo.example', ALERT_SMTP_FROM: 'alerts@twincigo.example', ALERT_SMTP_SMARTHOST: 'smtp.example.com:587', ALERT_SMTP_USERNAME: 'alerts', ALERT_SMTP_PASSWORD: 'pw-Kq8vT2mZ5xW9pLs' },
  };
  variants.both = { ...variants.slack!, ...variants.email! };
  for (const [name, values] of Object.entries(variants)) {
    it(`${name}: amtool check-config accepts the rendered file; critical routed apart, resolved notifications on`, () => {
      const { receivers, problems } = alertReceivers(values);
      expect(problems).toEqual([]);
      const text = alertmanagerConfig(receivers);
      const file = join(tmp, `alertmanager-${name}.yml`);
      writeFileSync(file, text);
      const r = run('amtool', ['check-config', file]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(text).toContain('send_resolved: true');
      expect(text).toMatch(/matchers:\n\s+- severity="critical"/);
    });
  }

  it('prod with no receiver, an unknown kind or half an SMTP setup is refused by env check; dev may have none', () => {
    const problems = (v: Record<string, string>, profile: 'dev' | 'prod' = 'prod') =>
      envProblems(env(profile), { file: '/x', exists: true, problems: [], values: v }).filter((p) => p.key.startsWith('ALERT_') && p.kind !== 'unpinned').map((p) => p.message);
    expect(problems({})).toEqual(['no alert receiver: prod alerts would reach no one — set ALERT_WEBHOOK_URL (ALERT_WEBHOOK_KIND slack|discord|webhook) and/or ALERT_EMAIL_TO, ALERT_SMTP_FROM, ALERT_SMTP_SMARTHOST']);
    expect(problems({}, 'dev')).toEqual([]);
    expect(problems({ ALERT_WEBHOOK_URL: 'https://x.example/h', ALERT_WEBHOOK_KIND: 'teams' })[0]).toMatch(/^ALERT_WEBHOOK_KIND=teams is not one of slack, discord, webhook/);
    expect(problems({ ALERT_EMAIL_TO: 'ops@x.example' })).toEqual(['alerts by email need ALERT_EMAIL_TO, ALERT_SMTP_FROM, ALERT_SMTP_SMARTHOST: ALERT_SMTP_FROM, ALERT_SMTP_SMARTHOST missing']);
    expect(problems({ ALERT_WEBHOOK_URL: 'https://hooks.slack.example/x' })).toEqual([]);
  });

});

describe('Grafana provisioning', () => {
  const yaml = (f: string) => parse(readFileSync(`${REPO}compose/config/${f}`, 'utf8')) as { datasources: Array<{ uid: string; type: string; url: string }> };
  it('prod: Prometheus and Loki data sources; dev: Loki only (no Prometheus there)', () => {
    expect(yaml('grafana-datasources.prod.yml').datasources.map((d) => [d.uid, d.type, d.url])).toEqual([
      ['twincigo-prometheus', 'prometheus', 'http://prometheus:9090'],
      ['twincigo-loki', 'loki', 'http://loki:3100'],
    ]);
    expect(yaml('grafana-datasources.yml').datasources.map((d) => d.type)).toEqual(['loki']);
  });

  it('the cluster dashboard: every panel on a provisioned data source, every query valid PromQL (promtool), the asked-for views there', () => {
    const dash = JSON.parse(readFileSync(`${REPO}compose/config/dashboards/twincigo-cluster.json`, 'utf8')) as { uid: string; panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string; datasource: { uid: string } }> }> };
    expect(dash.uid).toBe('twincigo-cluster');
    const uids = new Set(yaml('grafana-datasources.prod.yml').datasources.map((d) => d.uid));
    const exprs = dash.panels.flatMap((p) => {
      expect(uids.has(p.datasource.uid), p.title).toBe(true);
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      return p.targets.map((t) => t.expr);
    });
    // each query as a recording rule: promtool parses it as Prometheus would
    const file = join(tmp, 'dashboard-queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:q${i}`, expr })) }] }));
    const r = run('promtool', ['check', 'rules', file]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const all = exprs.join('\n');
    for (const metric of ['haproxy_backend_active_servers', 'patroni_primary', 'patroni_xlog_replayed_location', 'pg_stat_database_xact_commit', 'pg_stat_database_numbackends', 'etcd_server_has_leader', 'node_cpu_seconds_total', 'node_memory_MemAvailable_bytes', 'node_filesystem_avail_bytes']) expect(all).toContain(metric);
  });
});

