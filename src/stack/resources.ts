import { parse, type Tags } from 'yaml';
import type { Profile } from '../config/roles.js';

/** Hetzner node sizes: dev CCX13, prod CCX33. Part of each is kept for the OS and Docker. */
export const NODE_CAPACITY: Record<Profile, { cpus: number; memoryMiB: number; reserveMiB: number }> = {
  dev: { cpus: 2, memoryMiB: 8 * 1024, reserveMiB: 768 },
  prod: { cpus: 8, memoryMiB: 32 * 1024, reserveMiB: 2048 },
};

/** Compose's merge tags (`!reset`, `!override`): read as the value they carry. */
const COMPOSE_TAGS: Tags = ['seq', 'map', 'scalar'].flatMap((kind) =>
  ['!reset', '!override'].map((tag) => ({ tag, collection: kind === 'scalar' ? undefined : kind, resolve: (v: unknown) => v }) as never),
);

/** Parses a compose file as compose reads it. */
export function parseCompose(text: string): unknown {
  return parse(text, { customTags: COMPOSE_TAGS });
}

export interface ServiceLimits {
  service: string;
  file: string;
  cpus: number | null;
  memoryMiB: number | null;
}

function mebibytes(v: unknown): number | null {
  if (typeof v === 'number') return v / (1024 * 1024);
  if (typeof v !== 'string') return null;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(v.trim());
  if (!m) return null;
  const scale: Record<string, number> = { '': 1 / (1024 * 1024), k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 };
  return Number(m[1]) * scale[m[2]!.toLowerCase()]!;
}

/** Limits per service after merging the files in order (later files override), as compose does. */
export function serviceLimits(files: Array<{ path: string; content: string }>): ServiceLimits[] {
  const merged = new Map<string, ServiceLimits>();
  for (const f of files) {
    const doc = parseCompose(f.content) as { services?: Record<string, { deploy?: { resources?: { limits?: { cpus?: unknown; memory?: unknown } } } } | null> } | null;
    for (const [service, def] of Object.entries(doc?.services ?? {})) {
      const limits = def?.deploy?.resources?.limits;
      const prev = merged.get(service) ?? { service, file: f.path, cpus: null, memoryMiB: null };
      if (limits?.cpus !== undefined) prev.cpus = Number(limits.cpus);
      if (limits?.memory !== undefined) prev.memoryMiB = mebibytes(limits.memory);
      prev.file = f.path;
      merged.set(service, prev);
    }
  }
  return [...merged.values()];
}

/** Problems with a node's limits: a service without limits, or a sum larger than the node. */
export function checkFits(node: string, profile: Profile, limits: ServiceLimits[]): string[] {
  const cap = NODE_CAPACITY[profile];
  const problems: string[] = [];
  for (const l of limits) {
    if (l.cpus === null || l.memoryMiB === null) problems.push(`${node}: service ${l.service} (${l.file}) has no cpus/memory limit`);
  }
  const cpus = limits.reduce((s, l) => s + (l.cpus ?? 0), 0);
  const mem = limits.reduce((s, l) => s + (l.memoryMiB ?? 0), 0);
  const usable = cap.memoryMiB - cap.reserveMiB;
  const list = (key: 'cpus' | 'memoryMiB') => limits.map((l) => `${l.service} ${key === 'cpus' ? l.cpus : `${l.memoryMiB}M`}`).join(', ');
  if (cpus > cap.cpus + 1e-9) problems.push(`${node}: services need ${cpus.toFixed(2)} CPUs, the ${profile} node has ${cap.cpus} (${list('cpus')})`);
  if (mem > usable + 1e-9) problems.push(`${node}: services need ${Math.round(mem)} MiB of memory, the ${profile} node has ${usable} MiB for them (${list('memoryMiB')})`);
  return problems;
}
