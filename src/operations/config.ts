import { relative } from 'node:path';
import { ConfigError, EXIT } from '../errors.js';
import { missingKeys, readEnvFile, secretValues, valuesForNode, type MissingKey } from '../config/env-file.js';
import { isSecretKey } from '../config/env-keys.js';
import { configFor, readInventory, resolveEnvironment, type Inventory } from '../config/load.js';
import { REDACTED, redactor } from '../output/redact.js';
import { envProblems } from '../secrets/check.js';
import { renderGated } from './gate.js';
import { resolveTarget, type SshTarget } from '../ssh/target.js';
import { looseFiles } from '../session/permissions.js';
import { makeUi, type GlobalOptions, type Session } from '../session/session.js';

const hop = (t: SshTarget): string => `${t.user}@${t.host}:${t.port}${t.jump ? ` via ${hop(t.jump)}` : ''}`;

/** `twincigo config`: the resolved inventory + env per node, secrets redacted. */
export async function showConfig(ctx: Session): Promise<number> {
  const { config, values: env, ui } = ctx;
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

/**
 * `twincigo config check [--env X]`: the gate — every check render, bootstrap and deploy would run
 * (inventory, addresses, env file syntax and keys, missing/placeholder/weak/invalid values, file
 * permissions, resources per node), all problems at once; exit 0 or 2.
 */
export async function checkConfig(g: GlobalOptions): Promise<number> {
  const ui = makeUi(g);
  const inv = readInventory(g.config);
  const names = g.env ? [g.env] : Object.keys(inv.spec.environments);
  if (g.env && !inv.spec.environments[g.env]) resolveEnvironment(inv, g.env); // the unknown-environment error
  const problems: string[] = [];
  const checked: Array<{ environment: string; envFile: string; envFileChecked: boolean }> = [];
  for (const name of names) {
    const tag = names.length > 1 ? `${name}: ` : '';
    const found = environmentProblems(inv, name, Boolean(g.env), (w) => ui.warn(`${tag}${w}`));
    problems.push(...found.problems.map((p) => `${tag}${p}`));
    if (found.note) ui.info(`note: ${found.note}`);
    checked.push({ environment: name, envFile: found.envFile, envFileChecked: found.envFileChecked });
  }
  if (problems.length > 0) throw new ConfigError(g.env ? `environment ${g.env}` : 'configuration', problems);
  ui.json({ ok: true, inventory: inv.file, environments: checked });
  ui.print(`ok: ${inv.file} is valid (${checked.map((c) => `${c.environment}${c.envFileChecked ? ' + env' : ''}`).join(', ')})`);
  return EXIT.ok;
}

function environmentProblems(inv: Inventory, name: string, required: boolean, warn: (m: string) => void) {
  const problems: string[] = [];
  let e;
  try {
    e = resolveEnvironment(inv, name);
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems, envFile: '', envFileChecked: false };
    throw err;
  }
  const rel = relative(process.cwd(), e.envFile) || e.envFile;
  const env = readEnvFile(e.envFile);
  redactor.add(secretValues(env));
  if (!env.exists) {
    if (required) problems.push(`${rel}: env file not found (twincigo secrets init --env ${name} creates it from env/.env.${e.profile}.example)`);
    return { problems, envFile: e.envFile, envFileChecked: false, note: required ? undefined : `${rel} not present; env of "${name}" not checked` };
  }
  problems.push(...env.problems);
  const config = configFor(inv, name);
  for (const m of looseFiles(config, env)) (e.profile === 'prod' ? problems.push(m) : warn(m));
  if (env.problems.length === 0) {
    const values = envProblems(e, env);
    problems.push(...values.map((p) => `${p.kind}: ${p.message}`));
    try {
      renderGated(e, e.nodes, env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const known = new Set(values.map((p) => p.message));
      problems.push(...err.problems.filter((p) => !known.has(p)));
    }
  }
  return { problems, envFile: e.envFile, envFileChecked: true };
}
