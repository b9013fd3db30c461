import { parseCompose } from '../stack/resources.js';

type Map = Record<string, unknown>;
const isMap = (v: unknown): v is Map => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Compose files merged as compose merges ours: mappings key by key, a later sequence replacing an
 * earlier one (our override files tag every sequence they change `!override` or `!reset`).
 */
export function mergeCompose(texts: readonly string[]): { services: Record<string, Map>; volumes: Map } {
  let out: Map = {};
  for (const t of texts) out = merge(out, (parseCompose(t) as Map | null) ?? {});
  return { services: (out.services as Record<string, Map> | undefined) ?? {}, volumes: (out.volumes as Map | undefined) ?? {} };
}

function merge(a: Map, b: Map): Map {
  const out: Map = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isMap(out[k]) && isMap(v) ? merge(out[k], v) : v;
  return out;
}
