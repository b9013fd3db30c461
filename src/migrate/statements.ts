/**
 * Splits a migration file into its statements, as psql would: semicolons inside quotes ('…', "…",
 * E'…'), dollar quotes ($$ … $$, $tag$ … $tag$), comments (-- and nested /* *\/), parentheses and
 * SQL-standard function bodies (BEGIN ATOMIC … END) do not end a statement. Each statement keeps
 * the line it starts on, so a server error can be reported as file:line.
 */
export interface Statement {
  sql: string;
  /** 1-based line of the statement's first character in the file. */
  line: number;
}

const WORD = /[A-Za-z_][A-Za-z0-9_$]*/y;
const DOLLAR_TAG = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/y;

export function splitStatements(text: string): Statement[] {
  const out: Statement[] = [];
  let start = -1; // index of the current statement's first significant character
  let parens = 0;
  let atomic = 0; // depth inside BEGIN ATOMIC … END (CASE … END nests in it)
  let prevWord = '';
  let i = 0;
  const flush = (end: number) => {
    if (start >= 0) {
      const sql = text.slice(start, end).trim();
      if (sql) out.push({ sql, line: lineAt(text, start) });
    }
    start = -1;
    parens = 0;
    atomic = 0;
    prevWord = '';
  };
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      i = skipBlockComment(text, i);
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (start < 0) start = i;
    if (c === "'" || c === '"') {
      i = skipQuoted(text, i, c, c === "'" && /[eE]/.test(text[i - 1] ?? '') && !/[A-Za-z0-9_]/.test(text[i - 2] ?? ''));
      continue;
    }
    if (c === '$') {
      DOLLAR_TAG.lastIndex = i;
      const m = DOLLAR_TAG.exec(text);
      if (m && !/[A-Za-z0-9_]/.test(text[i - 1] ?? '')) {
        const close = text.indexOf(m[0], i + m[0].length);
        i = close < 0 ? text.length : close + m[0].length;
        continue;
      }
    }
    if (c === '(') parens++;
    else if (c === ')') parens = Math.max(0, parens - 1);
    else if (c === ';' && parens === 0 && atomic === 0) {
      flush(i + 1);
      i++;
      continue;
    }
    WORD.lastIndex = i;
    const w = /[A-Za-z_]/.test(c) && !/[A-Za-z0-9_$]/.test(text[i - 1] ?? '') ? WORD.exec(text) : null;
    if (w) {
      const word = w[0].toUpperCase();
      if (word === 'ATOMIC' && prevWord === 'BEGIN') atomic++;
      else if (atomic > 0 && word === 'CASE') atomic++;
      else if (atomic > 0 && word === 'END') atomic--;
      prevWord = word;
      i += w[0].length;
      continue;
    }
    i++;
  }
  flush(text.length);
  return out;
}

function skipQuoted(text: string, i: number, quote: string, backslashEscapes: boolean): number {
  let j = i + 1;
  while (j < text.length) {
    const ch = text[j]!;
    if (backslashEscapes && ch === '\\') {
      j += 2;
      continue;
    }
    if (ch === quote) {
      if (text[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return text.length;
}

function skipBlockComment(text: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < text.length) {
    if (text[j] === '/' && text[j + 1] === '*') {
      depth++;
      j += 2;
    } else if (text[j] === '*' && text[j + 1] === '/') {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else j++;
  }
  return text.length;
}

/** 1-based line of a character index. */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let k = 0; k < index && k < text.length; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

/** Transaction control a migration must not contain when twincigo wraps it in a transaction. */
export function isTransactionControl(sql: string): boolean {
  return /^(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)\b\s*(WORK|TRANSACTION)?\s*;?$/i.test(sql.trim()) && !/^BEGIN\s+ATOMIC/i.test(sql.trim());
}
