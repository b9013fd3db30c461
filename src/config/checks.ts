import { IMPLIED_ROLES, MIN_MEMBERS, ROLES, type Role } from './roles.js';
import { formatPath } from './path.js';

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Cross-field checks the schema cannot express. They run on the raw document so that they report
 * alongside structural errors elsewhere (all problems at once).
 */
export function crossChecks(doc: unknown): string[] {
  const problems: string[] = [];
  if (!isObj(doc) || !isObj(doc.environments)) return problems;
  for (const [envName, env] of Object.entries(doc.environments)) {
    if (!isObj(env) || !Array.isArray(env.nodes)) continue;
    checkEnvironment(envName, env, env.nodes, problems);
  }
  return problems;
}

function checkEnvironment(envName: string, env: Raw, nodes: unknown[], problems: string[]): void {
  const at = (...p: PropertyKey[]) => formatPath(['environments', envName, ...p]);
  const names = new Map<string, number>();
  const hosts = new Map<string, number>();
  const roleCount = new Map<Role, number>();
  nodes.forEach((node, i) => {
    if (!isObj(node)) return;
    if (typeof node.name === 'string') {
      const first = names.get(node.name);
      if (first !== undefined) problems.push(`${at('nodes', i, 'name')}: duplicate node name "${node.name}" (also nodes[${first}])`);
      else names.set(node.name, i);
    }
    if (typeof node.host === 'string') {
      const ssh = isObj(node.ssh) ? node.ssh : {};
      const key = `${node.host}:${typeof ssh.port === 'number' ? ssh.port : ''}`;
      const first = hosts.get(key);
      if (first !== undefined) problems.push(`${at('nodes', i, 'host')}: duplicate host "${node.host}" (also nodes[${first}])`);
      else hosts.set(key, i);
    }
    if (Array.isArray(node.roles)) {
      for (const r of new Set(node.roles)) {
        if ((ROLES as readonly unknown[]).includes(r)) roleCount.set(r as Role, (roleCount.get(r as Role) ?? 0) + 1);
      }
    }
  });
  const skipped = new Set(Array.isArray(env.skipRoles) ? env.skipRoles : []);
  for (const role of ROLES) {
    const count = roleCount.get(role) ?? 0;
    const min = MIN_MEMBERS[role];
    if (min !== undefined && count < min) {
      problems.push(`${at('nodes')}: role "${role}" needs at least ${min} nodes, found ${count}`);
    } else if (count === 0 && !skipped.has(role) && !IMPLIED_ROLES[role]) {
      problems.push(`${at('nodes')}: no node has role "${role}" (give it to a node, or list it in ${at('skipRoles')})`);
    }
  }
  const etcd = roleCount.get('etcd') ?? 0;
  if (etcd >= 3 && etcd % 2 === 0) problems.push(`${at('nodes')}: role "etcd" has ${etcd} members; use an odd number so a quorum survives a split`);
  // prod storage: MinIO beside Supabase's storage, on that node's own Docker network — never plain S3 across the internet
  const profile = env.profile ?? (envName === 'prod' ? 'prod' : 'dev');
  if (profile === 'prod') {
    nodes.forEach((node, i) => {
      if (isObj(node) && Array.isArray(node.roles) && node.roles.includes('storage') && !node.roles.includes('supabase'))
        problems.push(`${at('nodes', i, 'roles')}: in prod, "storage" (MinIO) goes on the node with "supabase" — Supabase storage reaches it there over the node's own Docker network, never in plain HTTP across the internet (for offsite S3 drop the role and set STORAGE_S3_ENDPOINT)`);
    });
  }
  if (env.initialLeader !== undefined) {
    const idx = typeof env.initialLeader === 'string' ? names.get(env.initialLeader) : undefined;
    const node = idx === undefined ? undefined : nodes[idx];
    if (idx === undefined) problems.push(`${at('initialLeader')}: no node named "${String(env.initialLeader)}"`);
    else if (isObj(node) && Array.isArray(node.roles) && !node.roles.includes('patroni'))
      problems.push(`${at('initialLeader')}: node "${String(env.initialLeader)}" does not have role "patroni"`);
  }
}
