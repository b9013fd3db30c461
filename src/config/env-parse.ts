/**
 * A strict dotenv reader: every line is blank, a comment, or `KEY=value` (optionally `export KEY=…`).
 * Values: unquoted (trimmed; ` #…` starts a comment), 'single-quoted' (literal) or "double-quoted"
 * (\n, \t, \", \\ escapes), on one line. Anything else — a key with a space, a missing `=`, an
 * unterminated quote, the same key twice — is a problem naming `file:line`, never a guess.
 */
export interface ParsedEnv {
  values: Record<string, string>;
  /** Line of each key, for messages. */
  lines: Record<string, number>;
  problems: string[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', $: '$' };

function parseValue(raw: string): { value: string } | { error: string } {
  const s = raw.replace(/^[ \t]+/, '');
  const q = s[0];
  if (q === "'" || q === '"') {
    let value = '';
    let i = 1;
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (c === q) break;
      if (q === '"' && c === '\\' && i + 1 < s.length) {
        const e = s[++i]!;
        value += ESCAPES[e] ?? `\\${e}`;
      } else value += c;
    }
    if (i >= s.length) return { error: `unterminated ${q === '"' ? 'double' : 'single'} quote (values are one line)` };
    const rest = s.slice(i + 1).trim();
    if (rest !== '' && !rest.startsWith('#')) return { error: `unexpected text after the closing quote: ${JSON.stringify(rest.slice(0, 20))}` };
    return { value };
  }
  const hash = s.search(/\s#/);
  return { value: (hash >= 0 ? s.slice(0, hash) : s).trim() };
}

export function parseEnvText(text: string, file: string): ParsedEnv {
  const out: ParsedEnv = { values: {}, lines: {}, problems: [] };
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  rows.forEach((row, i) => {
    const n = i + 1;
    const line = row.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = line.replace(/^export\s+/, '');
    const eq = body.indexOf('=');
    const key = eq < 0 ? body : body.slice(0, eq);
    if (eq < 0 || !KEY.test(key)) {
      const why = eq < 0 ? 'no "=" in it' : /\s/.test(key.trim()) || key !== key.trim() ? `spaces in or around the key ${JSON.stringify(key.trim())}` : `${JSON.stringify(key)} is not a valid key (letters, digits, _)`;
      out.problems.push(`${file}:${n}: malformed line (${why}); expected KEY=value`);
      return;
    }
    const parsed = parseValue(body.slice(eq + 1));
    if ('error' in parsed) {
      out.problems.push(`${file}:${n}: ${key}: ${parsed.error}`);
      return;
    }
    if (out.lines[key] !== undefined) {
      out.problems.push(`${file}:${n}: ${key} is set again (first at line ${out.lines[key]}); keep one`);
      return;
    }
    out.values[key] = parsed.value;
    out.lines[key] = n;
  });
  return out;
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** The closest known word, when it is close enough to be a typo. */
export function didYouMean(word: string, known: Iterable<string>): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(word.toUpperCase(), k.toUpperCase());
    if (!best || d < best.d) best = { k, d };
  }
  return best && best.d <= Math.max(2, Math.floor(word.length / 4)) ? best.k : undefined;
}
