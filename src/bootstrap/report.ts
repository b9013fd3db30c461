import type { EnvValues } from '../config/env-file.js';
import type { EnvironmentConfig } from '../config/model.js';
import type { NodeBundle } from '../stack/bundle.js';
import { outline } from '../engine/outline.js';
import type { Plan } from '../engine/types.js';
import type { NodeConfig } from '../config/model.js';
import { firewallPlan } from './firewall.js';

/** --dry-run: the phases, the firewall rules and the files, for every node. Secrets are never shown. */
export function dryRunText(env: EnvironmentConfig, plans: Plan<NodeConfig>[], bundles: NodeBundle[], firewall: boolean): string {
  const lines = [`bootstrap ${env.name} (dry run: no node is contacted, nothing changes)`, ''];
  let n = 1;
  for (const p of plans) {
    const part = outline(p, env.nodes, n);
    n += p.phases.length;
    lines.push(...part);
  }
  lines.push('', firewall ? 'Firewall rules (iptables chains TWINCIGO on INPUT and TWINCIGO-DOCKER in DOCKER-USER; the cluster ports also allowed in ufw when it is active):' : 'Firewall: skipped (--no-firewall)');
  if (firewall) {
    for (const node of env.nodes) {
      const fw = firewallPlan(env, node);
      lines.push(`   ${node.name}: every port from ${fw.allowed.join(', ')}, loopback and Docker bridges; from anyone else only tcp ${fw.publicPorts.join(',')}`);
    }
  }
  lines.push('', `Files (under ${env.baseDir}):`);
  for (const b of bundles) {
    lines.push(`   ${b.node}:`);
    for (const f of b.files) lines.push(`     ${f.mode.toString(8).padStart(4, '0')} ${String(Buffer.byteLength(f.content)).padStart(6)}  ${f.path}${f.secret ? '  (secrets)' : ''}`);
  }
  return lines.join('\n');
}

/** How to reach what bootstrap set up. Secrets are named, never printed. */
export function connectionInfo(env: EnvironmentConfig, values: EnvValues): string {
  const v = values.values;
  const sup = env.nodes.find((n) => n.roles.includes('supabase'));
  const mon = env.nodes.find((n) => n.roles.includes('monitoring'));
  const be = env.nodes.find((n) => n.roles.includes('backend'));
  const first = env.nodes[0]!;
  const lines = [
    'Connection info (secrets are in ' + values.file + ', not shown):',
    `  PostgreSQL writes  any node :5000 (HAProxy → leader), reads :5001 — cluster ports are open to the nodes only;`,
    `                     from here: ssh -N -L 5432:127.0.0.1:5000 ${first.ssh.user ?? 'root'}@${first.host}  then  psql -h 127.0.0.1 -U postgres`,
  ];
  if (sup) lines.push(`  Supabase API       ${v.API_EXTERNAL_URL ?? `http://${sup.host}:${v.KONG_HTTP_PORT ?? 8000}`} (ANON_KEY / SERVICE_ROLE_KEY)`);
  // prod: behind the edge (Caddy's /api/*); dev: its own port
  if (be) lines.push(`  Backend            ${env.profile === 'prod' ? `https://${v.PUBLIC_HOST ?? 'app.twincigo.com'}/api/` : `http://${be.host}:${v.BACKEND_PORT ?? 8080}`}`);
  if (mon) lines.push(`  Grafana            ssh -N -L 3000:127.0.0.1:${v.GRAFANA_PORT ?? 3000} ${mon.ssh.user ?? 'root'}@${mon.host}  then  http://127.0.0.1:3000 (GRAFANA_ADMIN_PASSWORD)`);
  return lines.join('\n');
}
