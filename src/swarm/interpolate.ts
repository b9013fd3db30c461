/**
 * Compose's variable substitution, for the files Swarm is given fully rendered and for what
 * twincigo resolves itself (a node's images): `${VAR}`, `${VAR:-default}` / `${VAR-default}`
 * (defaults may nest), `${VAR:+alt}` / `${VAR+alt}`, `${VAR:?message}` / `${VAR?message}`, `$VAR`,
 * and `$$` for a literal `$`. It also says which variables a value used, so a value made
 * from a secret can be kept out of the stack file.
 */
export interface Interpolated {
  value: string;
  used: string[];
}

export class MissingVariable extends Error {}

/** Substitutes `text`; `$$` stays `$$` when `keepEscapes` (what docker stack deploy reads again). */
export function interpolate(text: string, vars: Readonly<Record<string, string>>, keepEscapes = false): Interpolated {
  const used: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += keepEscapes ? '$$' : '$';
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(text, i + 2);
      const r = expression(text.slice(i + 2, end), vars, keepEscapes);
      out += r.value;
      used.push(...r.used);
      i = end + 1;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
      if (!m) {
        out += c;
        i++;
        continue;
      }
      used.push(m[0]);
      out += escape(vars[m[0]] ?? '', keepEscapes);
      i += 1 + m[0].length;
    }
  }
  return { value: out, used: [...new Set(used)] };
}

/** A substituted value read again by docker stack deploy keeps its `$` literal. */
const escape = (v: string, keep: boolean) => (keep ? v.replace(/\$/g, '$$$$') : v);

function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    if (text[j] === '$' && text[j + 1] === '{') {
      depth++;
      j++;
    } else if (text[j] === '}' && --depth === 0) return j;
  }
  throw new MissingVariable(`unterminated \${ in ${JSON.stringify(text)}`);
}

function expression(expr: string, vars: Readonly<Record<string, string>>, keepEscapes: boolean): Interpolated {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(expr);
  if (!m) throw new MissingVariable(`cannot read \${${expr}}`);
  const [, name, op, rest] = m as unknown as [string, string, string | undefined, string | undefined];
  const v = vars[name];
  const unset = op?.startsWith(':') ? v === undefined || v === '' : v === undefined;
  if (op?.endsWith('+')) return unset ? { value: '', used: [name] } : { ...interpolate(rest ?? '', vars, keepEscapes), used: [name] };
  if (!op || !unset) return { value: escape(v ?? '', keepEscapes), used: [name] };
  if (op.endsWith('?')) throw new MissingVariable(`${name}: ${rest || 'is required'}`);
  const d = interpolate(rest ?? '', vars, keepEscapes);
  return { value: d.value, used: [name, ...d.used] };
}
