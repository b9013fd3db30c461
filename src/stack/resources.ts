import { parse, type Tags } from 'yaml';
import { NODE_CAPACITY } from '../config/roles.js';
import type { EnvironmentConfig } from '../config/model.js';

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

/** How much of the profile's reference node (CCX13/CCX33) the environment's nodes are, per resource. */
export function sizeFactors(env: Pick<EnvironmentConfig, 'profile' | 'nodeSize'>): { cpus: number; memory: number } {
  const ref = NODE_CAPACITY[env.profile];
  const size = env.nodeSize ?? ref;
  return { cpus: size.cpus / ref.cpus, memory: size.memoryMiB / ref.memoryMiB };
}

/** The node's usable capacity: its size, less the part kept for the OS and Docker (scaled with it). */
export function capacityOf(env: Pick<EnvironmentConfig, 'profile' | 'nodeSize'>): { cpus: number; usableMiB: number } {
  const ref = NODE_CAPACITY[env.profile];
  const size = env.nodeSize ?? ref;
  return { cpus: size.cpus, usableMiB: size.memoryMiB - Math.round(ref.reserveMiB * sizeFactors(env).memory) };
}

/** Scaled limits, rounded down (cpus to 0.01, at least 0.05; memory to 1 MiB, at least 32) — the fit check then judges the sum. */
export function scaleLimits(limits: ServiceLimits[], f: { cpus: number; memory: number }): ServiceLimits[] {
  return limits.map((l) => ({
    ...l,
    // never below what a Go or Python service needs to start in reasonable time
    cpus: l.cpus === null ? null : Math.max(0.05, Math.floor(l.cpus * f.cpus * 100 + 1e-6) / 100),
    memoryMiB: l.memoryMiB === null ? null : Math.max(32, Math.floor(l.memoryMiB * f.memory + 1e-6)),
  }));
}

/** A compose override setting every service's limits to the scaled ones (appended after the role files). */
export function limitsOverride(limits: ServiceLimits[], env: Pick<EnvironmentConfig, 'profile' | 'nodeSize'>): string {
  const lines = [
    `# Rendered by twincigo: the ${env.profile} profile's limits scaled to this environment's nodeSize (${env.nodeSize?.cpus} CPUs, ${env.nodeSize?.memoryMiB} MiB).`,
    'services:',
  ];
  for (const l of limits) {
    if (l.cpus === null || l.memoryMiB === null) continue;
    lines.push(`  ${l.service}:`, `    deploy: { resources: { limits: { cpus: "${l.cpus.toFixed(2)}", memory: ${l.memoryMiB}M } } }`);
  }
  return `${lines.join('\n')}\n`;
}

/** Problems with a node's limits: a service without limits, or a sum larger than the node. */
export function checkFits(node: string, env: Pick<EnvironmentConfig, 'profile' | 'nodeSize'>, limits: ServiceLimits[]): string[] {
  const cap = capacityOf(env);
  const problems: string[] = [];
  for (const l of limits) {
    if (l.cpus === null || l.memoryMiB === null) problems.push(`${node}: service ${l.service} (${l.file}) has no cpus/memory limit`);
  }
  const cpus = limits.reduce((s, l) => s + (l.cpus ?? 0), 0);
  const mem = limits.reduce((s, l) => s + (l.memoryMiB ?? 0), 0);
  const list = (key: 'cpus' | 'memoryMiB') => limits.map((l) => `${l.service} ${key === 'cpus' ? l.cpus : `${l.memoryMiB}M`}`).join(', ');
  if (cpus > cap.cpus + 1e-9) problems.push(`${node}: services need ${cpus.toFixed(2)} CPUs, the ${env.profile} node has ${cap.cpus} (${list('cpus')})`);
  if (mem > cap.usableMiB + 1e-9) problems.push(`${node}: services need ${Math.round(mem)} MiB of memory, the ${env.profile} node has ${cap.usableMiB} MiB for them (${list('memoryMiB')})`);
  return problems;
}
