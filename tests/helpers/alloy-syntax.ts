/**
 * A checker of Grafana Alloy's configuration syntax, for the unit tests (Alloy itself has no
 * Debian package). It parses blocks, attributes and expressions as Alloy's grammar defines them,
 * and checks the components twincigo renders against their documented arguments and exports:
 * an unknown argument, a missing required one, or a reference to a component or export that does
 * not exist is an error, as `alloy fmt`/`alloy run` would report it.
 */
type Value = string | number | boolean | null | Value[] | { [k: string]: Value } | { ref: string };
export interface Block {
  name: string;
  label: string | null;
  attrs: Record<string, Value>;
  blocks: Block[];
}

const TOKEN = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|("(?:[^"\\\n]|\\.)*")|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([{}[\],=.])/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (!m) throw new Error(`unexpected character at offset ${at}: ${JSON.stringify(src.slice(at, at + 12))}`);
    const tok = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (tok !== undefined) out.push(tok);
  }
  return out;
}

export function parseAlloy(src: string): Block {
  const t = tokenize(src);
  let i = 0;
  const peek = () => t[i];
  const next = () => {
    if (i >= t.length) throw new Error('unexpected end of file');
    return t[i++]!;
  };
  const expect = (s: string) => {
    const got = next();
    if (got !== s) throw new Error(`expected "${s}", got "${got}"`);
  };
  const ident = () => {
    const s = next();
    if (!/^[A-Za-z_]/.test(s)) throw new Error(`expected a name, got "${s}"`);
    return s;
  };
  const value = (): Value => {
    const s = next();
    if (s.startsWith('"')) return JSON.parse(s) as string;
    if (/^-?\d/.test(s)) return Number(s);
    if (s === 'true' || s === 'false') return s === 'true';
    if (s === 'null') return null;
    if (s === '[') {
      const arr: Value[] = [];
      while (peek() !== ']') {
        arr.push(value());
        if (peek() === ',') next();
        else break;
      }
      expect(']');
      return arr;
    }
    if (s === '{') {
      const obj: Record<string, Value> = {};
      while (peek() !== '}') {
        const k = next();
        expect('=');
        obj[k.startsWith('"') ? (JSON.parse(k) as string) : k] = value();
        if (peek() === ',') next();
        else break;
      }
      expect('}');
      return obj;
    }
    i--;
    const parts = [ident()];
    while (peek() === '.') (next(), parts.push(ident()));
    return { ref: parts.join('.') };
  };
  const body = (name: string, label: string | null, closing: string | undefined): Block => {
    const b: Block = { name, label, attrs: {}, blocks: [] };
    while (peek() !== closing) {
      const parts = [ident()];
      while (peek() === '.') (next(), parts.push(ident()));
      if (peek() === '=') {
        if (parts.length > 1) throw new Error(`attribute name "${parts.join('.')}" may not contain dots`);
        next();
        if (parts[0]! in b.attrs) throw new Error(`attribute "${parts[0]}" set twice in ${name}`);
        b.attrs[parts[0]!] = value();
        continue;
      }
      const lbl = peek()?.startsWith('"') ? (JSON.parse(next()) as string) : null;
      expect('{');
      b.blocks.push(body(parts.join('.'), lbl, '}'));
      expect('}');
    }
    return b;
  };
  return body('', null, undefined);
}

interface Spec {
  required: string[];
  optional: string[];
  blocks?: Record<string, { required: string[]; optional: string[] }>;
  exports: string[];
}
/** The components twincigo renders, with their arguments and exports (Alloy's reference documentation). */
const COMPONENTS: Record<string, Spec> = {
  'discovery.docker': {
    required: ['host'],
    optional: ['port', 'host_networking_host', 'refresh_interval', 'match_first_network'],
    blocks: { filter: { required: ['name', 'values'], optional: [] } },
    exports: ['targets'],
  },
  'discovery.relabel': {
    required: ['targets'],
    optional: [],
    blocks: { rule: { required: [], optional: ['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action'] } },
    exports: ['output', 'rules'],
  },
  'loki.source.docker': {
    required: ['host', 'targets', 'forward_to'],
    optional: ['labels', 'relabel_rules', 'refresh_interval'],
    exports: [],
  },
  'loki.write': {
    required: [],
    optional: ['external_labels', 'max_streams'],
    blocks: { endpoint: { required: ['url'], optional: ['name', 'headers', 'batch_wait', 'batch_size', 'remote_timeout', 'tenant_id', 'min_backoff_period', 'max_backoff_period', 'max_backoff_retries', 'retry_on_http_429'] } },
    exports: ['receiver'],
  },
};

const refs = (v: Value): string[] =>
  v === null || typeof v !== 'object' ? [] : Array.isArray(v) ? v.flatMap(refs) : 'ref' in v && typeof v.ref === 'string' ? [v.ref] : Object.values(v as Record<string, Value>).flatMap(refs);

function checkArgs(where: string, b: Block, spec: { required: string[]; optional: string[] }): string[] {
  const errors: string[] = [];
  for (const k of Object.keys(b.attrs)) if (![...spec.required, ...spec.optional].includes(k)) errors.push(`${where}: unknown argument "${k}"`);
  for (const k of spec.required) if (!(k in b.attrs)) errors.push(`${where}: missing required argument "${k}"`);
  return errors;
}

/** The problems of a parsed config: unknown components/arguments, missing required ones, dangling references. */
export function checkAlloy(root: Block): string[] {
  const errors: string[] = [];
  const declared = new Map<string, Spec>();
  for (const b of root.blocks) {
    const spec = COMPONENTS[b.name];
    const where = `${b.name} "${b.label ?? ''}"`;
    if (!spec) (errors.push(`unknown component ${b.name}`), void 0);
    else {
      if (b.label === null) errors.push(`${b.name}: a component needs a label`);
      else if (declared.has(`${b.name}.${b.label}`)) errors.push(`${where}: declared twice`);
      else declared.set(`${b.name}.${b.label}`, spec);
      errors.push(...checkArgs(where, b, spec));
      for (const inner of b.blocks) {
        const bs = spec.blocks?.[inner.name];
        if (!bs) errors.push(`${where}: unknown block "${inner.name}"`);
        else errors.push(...checkArgs(`${where} ${inner.name}`, inner, bs));
      }
    }
  }
  const all = (b: Block): Value[] => [...Object.values(b.attrs), ...b.blocks.flatMap(all)];
  for (const r of all(root).flatMap(refs)) {
    const component = [...declared.keys()].find((c) => r.startsWith(`${c}.`));
    if (!component) errors.push(`reference to an undeclared component: ${r}`);
    else if (!declared.get(component)!.exports.includes(r.slice(component.length + 1))) errors.push(`${component} exports no "${r.slice(component.length + 1)}"`);
  }
  return errors;
}
