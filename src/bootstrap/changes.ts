/**
 * What bootstrap changed on a node, as data: the report prints each as a line (the same words as
 * always), and the decisions — converged? restarted? which files were uploaded? — read the fields,
 * never the text.
 */
export type Change =
  | { kind: 'file'; action: 'uploaded' | 'mode-fixed'; path: string }
  | { kind: 'firewall' }
  | { kind: 'images'; count: number; how: 'shipped' | 'fetched' }
  | { kind: 'started'; container: string }
  | { kind: 'reloaded' | 'restarted'; service: string; file: string };

export function describeChange(c: Change): string {
  switch (c.kind) {
    case 'file':
      return `${c.action} ${c.path}`;
    case 'firewall':
      return 'firewall rules';
    case 'images':
      return `${c.count} image${c.count === 1 ? '' : 's'} ${c.how}`;
    case 'started':
      return `started ${c.container}`;
    default:
      return `${c.kind} ${c.service} (${c.file})`;
  }
}

/** A file written or re-moded: the node no longer runs what it ran (not converged). */
export const rewrote = (c: Change): boolean => c.kind === 'file';
