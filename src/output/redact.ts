export const REDACTED = '[REDACTED]';

import { secretWeakness } from '../secrets/strength.js';

const escape = (v: string) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const NOT_WORD_AFTER = '(?![\\p{L}\\p{N}_])';

/**
 * Replaces known secret values in text, whole values only, so that output is never garbled:
 * - a strong secret (16+ characters, not common words) wherever it appears: such a string never
 *   collides with ordinary text, and glued to something (`-pSECRET`) it is still the secret;
 * - a weak one (a short or common word, which the checks refuse, but which may still be in an old
 *   env file) only where it stands as a value: after `=` or `:` or inside quotes. `compose/patroni.yml`
 *   and "roles etcd, patroni" stay readable and do not give the secret away.
 * Values shorter than 4 characters are not tracked.
 */
export class Redactor {
  private secrets: string[] = [];
  private pattern: RegExp | null = null;

  add(values: Iterable<string>): void {
    for (const v of values) if (v.length >= 4 && !this.secrets.includes(v)) this.secrets.push(v);
    this.secrets.sort((a, b) => b.length - a.length);
    const strong = this.secrets.filter((v) => secretWeakness(v) === null).map(escape);
    const weak = this.secrets.filter((v) => secretWeakness(v) !== null).map(escape);
    const parts = [
      ...(strong.length > 0 ? [`(?:${strong.join('|')})`] : []),
      ...(weak.length > 0 ? [`(?<=(?:[=:]\\s?|["'])|\\s[=:]\\s)(?:${weak.join('|')})${NOT_WORD_AFTER}`] : []),
    ];
    this.pattern = parts.length === 0 ? null : new RegExp(parts.join('|'), 'gu');
  }

  get size(): number {
    return this.secrets.length;
  }

  apply(text: string): string {
    if (!this.pattern) return text;
    return text.replace(this.pattern, REDACTED);
  }
}

/** The process-wide redactor; the CLI routes stdout and stderr through it. */
export const redactor = new Redactor();

type Write = typeof process.stdout.write;

/**
 * Routes everything written to a stream through the redactor, so that no code path — listr2
 * output, a stack trace, a remote command's stderr — can print a secret.
 */
export function guardStream(stream: NodeJS.WriteStream, r: Redactor = redactor): void {
  const original = stream.write.bind(stream) as Write;
  const guarded = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
    if (r.size > 0) {
      if (typeof chunk === 'string') chunk = r.apply(chunk);
      else if (chunk instanceof Uint8Array) chunk = r.apply(Buffer.from(chunk).toString('utf8'));
    }
    return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
  };
  stream.write = guarded as Write;
}
