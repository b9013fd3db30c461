import { relative } from 'node:path';
import { ConfigError, EXIT } from '../../errors.js';
import { missingKeys, readEnvFile, valuesForNode, type MissingKey } from '../../config/env-file.js';
import { isSecretKey } from '../../config/env-keys.js';
import { readInventory, resolveEnvironment } from '../../config/load.js';
import { REDACTED } from '../../output/redact.js';
import { resolveTarget, type SshTarget } from '../../ssh/target.js';
import { createContext, makeUi, type GlobalOptions } from '../context.js';

const hop = (t: SshTarget): string => `${t.user}@${t.host}:${t.port}${t.jump ? ` via ${hop(t.jump)}` : ''}`;

/** `twincigo config`: the resolved inventory + env per node, secrets redacted. */
export async function showConfig(g: GlobalOptions): Promise<number> {
  const ctx = await createContext(g);
  const { config, env, ui } = ctx;
  const e = config.env;
  const nodes = config.nodes.map((node) => {
    const t = resolveTarget(node.name, node.host, node.ssh, config.dir);
    const values = valuesForNode(e, node, env);
    const shown = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === null ? null : isSecretKey(k) ? REDACTED : v]));
    return {
      name: node.name,
      host: node.host,
      privateAddress: node.privateAddress,
      roles: node.roles,
      initialLeader: node.name === e.initialLeader,
      ssh: { connect: hop(t), user: t.user, host: t.host, port: t.port, identityFiles: t.identityFiles, knownHostsFile: t.knownHostsFile, jump: t.jump ? hop(t.jump) : null },
      env: shown,
    };
  });
  const missing = env.exists ? missingKeys(e, env, config.nodes) : [];
  ui.json({
    environment: e.name,
    profile: e.profile,
    inventory: config.file,
    envFile: { path: e.envFile, exists: env.exists },
    baseDir: e.baseDir,
    initialLeader: e.initialLeader,
    rttMs: e.rttMs,
    nodes,
    missingEnvKeys: missing.map((m) => m.key),
  });
  const rel = (p: string) => relative(process.cwd(), p) || p;
  const lines = [
    `environment ${e.name} (profile ${e.profile}) from ${rel(config.file)}`,
    `env file     ${rel(e.envFile)}${env.exists ? '' : ' (missing)'}`,
    `base dir     ${e.baseDir}`,
    `first leader ${e.initialLeader}`,
  ];
  for (const n of nodes) {
    lines.push('', `${n.name}${n.initialLeader ? ' (initial leader)' : ''}`);
    lines.push(`  host     ${n.host}${n.privateAddress !== n.host ? ` (cluster address ${n.privateAddress})` : ''}`);
    lines.push(`  ssh      ${n.ssh.connect}`);
    lines.push(`  identity ${n.ssh.identityFiles.join(', ') || '(ssh-agent)'}`);
    lines.push(`  roles    ${n.roles.join(', ')}`);
    const keys = Object.keys(n.env);
    lines.push(`  env      ${keys.length === 0 ? '(none needed)' : ''}`);
    for (const k of keys) lines.push(`    ${k}=${n.env[k] ?? '(missing)'}`);
  }
  if (missing.length > 0) lines.push('', `missing in ${rel(e.envFile)}: ${missing.map((m) => m.key).join(', ')}`);
  ui.print(lines.join('\n'));
  return EXIT.ok;
}

export function describeMissing(file: string, m: MissingKey): string {
  return `${file}: ${m.key} is missing — ${m.about} (needed by ${m.roles.join(', ')} on ${m.nodes.join(', ')})`;
}

/** `twincigo config check`: every problem of the inventory and env file(s) at once; exit 0 or 2. */
export async function checkConfig(g: GlobalOptions): Promise<number> {
  const ui = makeUi(g);
  const inv = readInventory(g.config);
  const names = g.env ? [g.env] : Object.keys(inv.spec.environments);
  const problems: string[] = [];
  const checked: Array<{ environment: string; envFile: string; envFileChecked: boolean }> = [];
  for (const name of names) {
    const e = resolveEnvironment(inv, name);
    const env = readEnvFile(e.envFile);
    const rel = relative(process.cwd(), e.envFile) || e.envFile;
    if (!env.exists) {
      if (g.env) problems.push(`${rel}: env file not found (copy env/.env.${e.profile}.example and fill it in)`);
      else ui.info(`note: ${rel} not present; env of "${name}" not checked`);
    } else {
      for (const m of missingKeys(e, env)) problems.push(describeMissing(rel, m));
    }
    checked.push({ environment: name, envFile: e.envFile, envFileChecked: env.exists });
  }
  if (problems.length > 0) throw new ConfigError(g.env ? `environment ${g.env}` : 'configuration', problems);
  ui.json({ ok: true, inventory: inv.file, environments: checked });
  ui.print(`ok: ${inv.file} is valid (${checked.map((c) => `${c.environment}${c.envFileChecked ? ' + env' : ''}`).join(', ')})`);
  return EXIT.ok;
}
