import { parse } from 'yaml';
import { TwincigoError } from '../errors.js';

/**
 * Patroni's cluster-wide settings (ttl, loop_wait, PostgreSQL parameters …) live in etcd after the
 * bootstrap: patroni.yml's `bootstrap.dcs` is read once, when the cluster is created. A deploy
 * therefore compares the rendered `bootstrap.dcs` with Patroni's `GET /config` and sends the
 * difference with `PATCH /config`; Patroni reloads every member, and parameters that need a
 * restart show as pending restart.
 */
export type Dcs = Record<string, unknown>;

export function desiredDcs(patroniYml: string): Dcs {
  const doc = parse(patroniYml) as { bootstrap?: { dcs?: Dcs } } | null;
  const dcs = doc?.bootstrap?.dcs;
  if (!dcs) throw new TwincigoError('patroni.yml has no bootstrap.dcs section');
  return dcs;
}

const same = (a: unknown, b: unknown) => (a !== null && typeof a === 'object') || (b !== null && typeof b === 'object') ? JSON.stringify(a) === JSON.stringify(b) : normalize(a) === normalize(b);
/** Patroni keeps what it was given: "on"/true/1 and 150/"150" are the same setting. */
function normalize(v: unknown): string {
  const s = String(v).trim().toLowerCase();
  if (s === 'true' || s === 'on') return 'on';
  if (s === 'false' || s === 'off') return 'off';
  return s;
}

/** The keys of `desired` whose values differ from `current` (postgresql.parameters compared one by one). */
export function dcsPatch(desired: Dcs, current: Dcs): Dcs {
  const patch: Dcs = {};
  for (const [k, v] of Object.entries(desired)) {
    if (k === 'postgresql' && v && typeof v === 'object') {
      const cur = (current.postgresql ?? {}) as Dcs;
      const pg: Dcs = {};
      for (const [pk, pv] of Object.entries(v as Dcs)) {
        if (pk === 'parameters' && pv && typeof pv === 'object') {
          const curParams = (cur.parameters ?? {}) as Dcs;
          const params: Dcs = {};
          for (const [name, value] of Object.entries(pv as Dcs)) if (!same(value, curParams[name])) params[name] = value;
          if (Object.keys(params).length > 0) pg.parameters = params;
        } else if (!same(pv, cur[pk])) pg[pk] = pv;
      }
      if (Object.keys(pg).length > 0) patch.postgresql = pg;
    } else if (!same(v, current[k])) patch[k] = v;
  }
  return patch;
}

/** "ttl 30 → 20, postgresql.parameters.max_connections 150 → 120" */
export function describePatch(patch: Dcs, current: Dcs): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'postgresql') {
      const cur = (current.postgresql ?? {}) as Dcs;
      for (const [pk, pv] of Object.entries(v as Dcs)) {
        if (pk === 'parameters') {
          for (const [name, value] of Object.entries(pv as Dcs)) out.push(`postgresql.parameters.${name}: ${show(((cur.parameters ?? {}) as Dcs)[name])} → ${show(value)}`);
        } else out.push(`postgresql.${pk}: ${show(cur[pk])} → ${show(pv)}`);
      }
    } else out.push(`${k}: ${show(current[k])} → ${show(v)}`);
  }
  return out;
}

const show = (v: unknown) => (v === undefined ? '(unset)' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function changedParameters(patch: Dcs): string[] {
  return Object.keys((((patch.postgresql ?? {}) as Dcs).parameters ?? {}) as Dcs);
}
