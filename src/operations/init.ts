import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Document, isDocument, isMap, isSeq, parseDocument } from 'yaml';
import { hostProblem, isIpAddress, privateAddressProblem } from '../config/address.js';
import { readEnvFile } from '../config/env-file.js';
import { readInventory, resolveEnvironment } from '../config/load.js';
import { PROFILES, ROLES, type Profile, type Role } from '../config/roles.js';
import { ConfigError, EXIT, UsageError } from '../errors.js';
import { redactor } from '../output/redact.js';
import { initSecrets } from '../secrets/init.js';
import { COMPOSE_DIR } from '../stack/compose-files.js';
import { makeUi, type GlobalOptions } from '../session/session.js';

export interface InitFlags {
  profile?: string;
  /** name=host, in order: the first is the initial leader. */
  node: string[];
  /** name=IPv4, for nodes whose host is a name. */
  privateAddress: string[];
  /** name=role,role — else the design's shape by position. */
  roles: string[];
}

/** The design's three-node shape by position: dev's app tier on one node each; prod's (a Swarm stack) on two. */
const SHAPES: Record<Profile, Role[][]> = {
  dev: [
    ['etcd', 'patroni', 'haproxy', 'supabase', 'storage'],
    ['etcd', 'patroni', 'haproxy', 'backend', 'redis'],
    ['etcd', 'patroni', 'haproxy', 'monitoring', 'backup'],
  ],
  prod: [
    ['etcd', 'patroni', 'haproxy', 'supabase', 'backend', 'storage'],
    ['etcd', 'patroni', 'haproxy', 'supabase', 'backend', 'redis'],
    ['etcd', 'patroni', 'haproxy', 'monitoring', 'backup'],
  ],
};
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const nameProblem = (v: string) => (NAME.test(v) ? null : 'a lower-case hostname label (a-z, 0-9, -)');

function pairs(list: string[], flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} ${item}: expected name=value`);
    out.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return out;
}

interface NodeAnswer {
  name: string;
  host: string;
  privateAddress?: string;
  roles: Role[];
}

function parseRoles(v: string): Role[] | string {
  const roles = v.split(/[,\s]+/).filter(Boolean);
  const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  return bad.length > 0 ? `unknown role ${bad.join(', ')} (roles: ${ROLES.join(', ')})` : (roles as Role[]);
}

/**
 * `twincigo init`: writes a valid twincigo.yml (or adds an environment to an existing one, comments
 * kept) and the environment's env file from the shipped example with every secret generated (0600).
 * On a TTY it asks for what flags do not give; without one every answer comes from flags. Nothing is
 * written unless the result validates.
 */
export async function init(g: GlobalOptions, flags: InitFlags): Promise<number> {
  const ui = makeUi(g);
  const file = resolve(g.config);
  const doc = existsSync(file) ? parseDocument(readFileSync(file, 'utf8')) : new Document({ version: 1, environments: {} });
  if (!isDocument(doc) || doc.errors.length > 0) throw new ConfigError(file, doc.errors.map((e) => e.message));
  const envName = g.env ?? (await ui.ask('environment name', '--env <name>', { default: 'dev', validate: nameProblem }));
  if (nameProblem(envName)) throw new UsageError(`--env ${envName}: ${nameProblem(envName)}`);
  if (doc.hasIn(['environments', envName])) throw new UsageError(`${relative(process.cwd(), file) || file} already defines environment ${envName}`, ['edit it there, or choose another --env']);
  const profile = (flags.profile ?? (envName === 'prod' ? 'prod' : g.env || !ui.interactive ? 'dev' : await ui.select('profile', PROFILES, '--profile dev|prod'))) as Profile;
  if (!(PROFILES as readonly string[]).includes(profile)) throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}`);

  const SHAPE = SHAPES[profile];
  const given = pairs(flags.node, '--node');
  const priv = pairs(flags.privateAddress, '--private-address');
  const roleFlags = pairs(flags.roles, '--role');
  const nodes: NodeAnswer[] = [];
  if (given.size > 0) {
    [...given].forEach(([name, host], i) => {
      const roles = roleFlags.has(name) ? parseRoles(roleFlags.get(name)!) : (SHAPE[i] ?? ['etcd', 'patroni', 'haproxy']);
      if (typeof roles === 'string') throw new UsageError(`--role ${name}: ${roles}`);
      nodes.push({ name, host, ...(priv.has(name) ? { privateAddress: priv.get(name)! } : {}), roles });
    });
  } else {
    for (let i = 0; i < 3; i++) {
      const name = await ui.ask(`node ${i + 1} of 3: name`, '--node <name>=<host> (three times)', { validate: nameProblem });
      const host = await ui.ask(`${name}: address SSH connects to (IP or host name)`, '--node', { validate: hostProblem });
      const privateAddress = isIpAddress(host) ? undefined : await ui.ask(`${name}: IPv4 address the other nodes reach it at`, '--private-address', { validate: privateAddressProblem });
      const answer = await ui.ask(`${name}: roles`, '--role', { default: SHAPE[i]!.join(','), validate: (v) => (typeof parseRoles(v) === 'string' ? (parseRoles(v) as string) : null) });
      nodes.push({ name, host, ...(privateAddress ? { privateAddress } : {}), roles: parseRoles(answer) as Role[] });
    }
  }

  const envNode = doc.createNode({
    profile,
    envFile: `env/.env.${envName}`,
    initialLeader: nodes[0]?.name,
    nodes: nodes.map((n) => ({ name: n.name, host: n.host, ...(n.privateAddress ? { privateAddress: n.privateAddress } : {}), roles: n.roles })),
  }, { flow: false });
  // roles on one line, as in the shipped inventory
  const seq = envNode.get('nodes', true);
  if (isSeq(seq)) for (const n of seq.items) if (isMap(n)) { const r = n.get('roles', true); if (isSeq(r)) r.flow = true; }
  doc.setIn(['environments', envName], envNode);
  if (!doc.has('version')) doc.set('version', 1);

  // validate before anything is written: the same loader every command uses
  const dir = dirname(file);
  const staged = join(dir, `.twincigo-init-${process.pid}.yml`);
  writeFileSync(staged, doc.toString());
  let envFile: string;
  try {
    let env;
    try {
      env = resolveEnvironment(readInventory(staged), envName);
    } catch (err) {
      // the problems of the file being written, named as such
      if (err instanceof ConfigError) throw new ConfigError(`${file} (not written)`, err.problems);
      throw err;
    }
    envFile = env.envFile;
    if (existsSync(envFile)) throw new UsageError(`${envFile} exists already: init writes new env files only`, ['twincigo secrets init fills in missing secrets of an existing one']);
    renameSync(staged, file);
    mkdirSync(dirname(envFile), { recursive: true, mode: 0o700 });
    const example = join(COMPOSE_DIR, '..', 'env', `.env.${profile}.example`);
    const res = initSecrets(env, { ...readEnvFile(envFile), values: {} }, [], existsSync(example) ? example : undefined);
    chmodSync(envFile, 0o600);
    redactor.add(res.newValues);
    ui.json({ ok: true, inventory: file, environment: envName, profile, envFile, generated: res.generated });
    const rel = (p: string) => relative(process.cwd(), p) || p;
    ui.print(
      [
        `wrote ${rel(file)}: environment ${envName} (profile ${profile}), ${nodes.length} nodes`,
        `wrote ${rel(envFile)} (0600): ${res.generated.length} secrets generated`,
        `next: fill in the settings left empty (twincigo env check --env ${envName}), then twincigo bootstrap --env ${envName} --dry-run`,
      ].join('\n'),
    );
  } finally {
    rmSync(staged, { force: true });
  }
  return EXIT.ok;
}
