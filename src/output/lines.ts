/**
 * Splits streamed output into whole lines and writes each with a prefix (the node's name), so
 * that the output of several nodes can interleave line by line without mixing inside a line.
 */
export class PrefixedLines {
  private rest = '';

  constructor(
    private readonly prefix: string,
    private readonly write: (line: string) => void,
    private readonly keep: (line: string) => boolean = () => true,
  ) {}

  push(chunk: string): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    for (const line of parts) this.emit(line);
  }

  /** The last line when the stream ended without a newline. */
  end(): void {
    if (this.rest !== '') this.emit(this.rest);
    this.rest = '';
  }

  private emit(line: string): void {
    const clean = line.replace(/\r$/, '');
    if (this.keep(clean)) this.write(`${this.prefix}${clean}\n`);
  }
}

/** Node names padded to one width, each in its own colour on a TTY. */
export function nodePrefixes(names: readonly string[], colour: boolean): Map<string, string> {
  const width = Math.max(...names.map((n) => n.length));
  const colours = [36, 33, 35, 32, 34, 31];
  return new Map(names.map((n, i) => [n, colour ? `\x1b[${colours[i % colours.length]}m${n.padEnd(width)}\x1b[0m | ` : `${n.padEnd(width)} | `]));
}
