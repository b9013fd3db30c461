export const REDACTED = '[REDACTED]';

/** Replaces every known secret value in text. Values shorter than 4 characters are not tracked. */
export class Redactor {
  private secrets: string[] = [];

  add(values: Iterable<string>): void {
    for (const v of values) if (v.length >= 4 && !this.secrets.includes(v)) this.secrets.push(v);
    this.secrets.sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.secrets.length;
  }

  apply(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
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
