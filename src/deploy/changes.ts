import { CONFIG_RELOAD, servicesToReload } from '../stack/reload.js';
import type { NodeInspection } from './inspect.js';

export type ReloadEntry = (typeof CONFIG_RELOAD)[number];

/** What a deploy changes on one node: files, and the services compose recreates or that reload. */
export interface NodeChanges {
  node: string;
  current: string | null;
  changedFiles: string[];
  addedFiles: string[];
  removedFiles: string[];
  /** Every live file either release names (what a snapshot of the live tree keeps). */
  livePaths: string[];
  /** Services whose compose config hash differs from their container's (or without a running container). */
  recreate: string[];
  /** Services whose bind-mounted config file changed and that are not recreated anyway. */
  reload: ReloadEntry[];
  /** Containers of services the release no longer has on this node (a role moved away). */
  orphans: string[];
}

/** Services whose removal changes cluster membership: never done by a deploy. */
export const MEMBERSHIP = new Set(['etcd', 'patroni']);

export function nodeChanges(node: string, insp: NodeInspection): NodeChanges {
  const wanted = insp.target;
  const changedFiles: string[] = [];
  const addedFiles: string[] = [];
  for (const [path, sum] of wanted) {
    const live = insp.live.get(path);
    if (live === undefined) addedFiles.push(path);
    else if (live !== sum) changedFiles.push(path);
  }
  const removedFiles = [...insp.live.keys()].filter((p) => !wanted.has(p));
  const recreate = [...insp.wanted].filter(([service, hash]) => {
    const r = insp.running.get(service);
    return !r || r.hash !== hash || r.state !== 'running';
  }).map(([service]) => service);
  const touched = [...changedFiles, ...addedFiles];
  const reload = servicesToReload(touched, [...insp.wanted.keys()]).filter((r) => !recreate.includes(r.service));
  const orphans = insp.wanted.size > 0 ? [...insp.running.keys()].filter((s) => !insp.wanted.has(s)).sort() : [];
  return { node, current: insp.current, changedFiles, addedFiles, removedFiles, livePaths: [...insp.live.keys()], recreate, reload, orphans };
}

export const hasChanges = (c: NodeChanges) => c.changedFiles.length + c.addedFiles.length + c.removedFiles.length + c.recreate.length + c.orphans.length > 0;

/**
 * The compose files the node had before this change (its rollback target), in the order compose
 * needs them: each role's file, then the profile's overrides (compose/prod/…).
 */
export function previousComposeFiles(c: NodeChanges): string[] {
  const yml = c.livePaths.filter((p) => /^compose\/.+\.ya?ml$/.test(p));
  return [...yml.filter((p) => !p.startsWith('compose/prod/')).sort(), ...yml.filter((p) => p.startsWith('compose/prod/')).sort()];
}

/** Services handled by the Patroni phase (one member at a time, leader last), not node by node. */
export const ROLLING = new Set(['patroni']);

/** "recreate backend; reload haproxy (config/haproxy/haproxy.cfg)" */
export function describeNode(c: NodeChanges): string {
  const parts: string[] = [];
  const files = [...c.changedFiles.map((f) => `~${f}`), ...c.addedFiles.map((f) => `+${f}`), ...c.removedFiles.map((f) => `-${f}`)];
  parts.push(files.length ? `files ${files.join(' ')}` : 'files unchanged');
  if (c.recreate.length) parts.push(`recreate ${c.recreate.join(', ')}`);
  for (const r of c.reload) parts.push(`${r.how === 'restart' ? 'restart' : `reload (SIG${r.how.signal})`} ${r.service}`);
  if (c.orphans.length) parts.push(`remove ${c.orphans.join(', ')} (no longer on this node)`);
  if (!c.recreate.length && !c.reload.length && !c.orphans.length) parts.push('no service restarts');
  return parts.join('; ');
}
