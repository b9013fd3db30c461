import type { MigrationState, MigrationStatus } from './state.js';

export type Summary = Record<MigrationState, number>;

export function summarize(status: MigrationStatus[]): Summary {
  const s: Summary = { applied: 0, pending: 0, changed: 0, missing: 0 };
  for (const m of status) s[m.state]++;
  return s;
}

export function summaryLine(s: Summary): string {
  const parts = [`${s.applied} applied`, `${s.pending} pending`];
  if (s.changed) parts.push(`${s.changed} changed since applied`);
  if (s.missing) parts.push(`${s.missing} applied but no longer a file`);
  return parts.join(', ');
}

const NOTE: Record<MigrationState, (m: MigrationStatus) => string> = {
  applied: (m) => `${m.appliedAt?.replace(/\.\d+Z$/, 'Z')}  ${m.durationMs} ms  ${m.appliedBy}`,
  pending: (m) =>
    [m.empty ? 'empty: no SQL yet' : '', m.transactional === false ? 'no transaction' : '', m.outOfOrder ? 'older than applied ones: up refuses it' : ''].filter(Boolean).join(', '),
  changed: (m) => `sha256 differs from the one applied ${m.appliedAt?.replace(/\.\d+Z$/, 'Z')} by ${m.appliedBy}`,
  missing: (m) => `applied ${m.appliedAt?.replace(/\.\d+Z$/, 'Z')}, file not found`,
};

/** One line per migration: version, name, state, when/why. */
export function statusTable(status: MigrationStatus[]): string {
  if (status.length === 0) return '  (no migrations)';
  const idW = Math.max(7, ...status.map((m) => m.id.length));
  const nameW = Math.min(40, Math.max(4, ...status.map((m) => m.name.length)));
  const rows = [`  ${'VERSION'.padEnd(idW)}  ${'NAME'.padEnd(nameW)}  ${'STATE'.padEnd(7)}  DETAIL`];
  for (const m of status) rows.push(`  ${m.id.padEnd(idW)}  ${m.name.padEnd(nameW)}  ${m.state.padEnd(7)}  ${NOTE[m.state](m)}`.trimEnd());
  return rows.join('\n');
}

/** "0003_a, 0004_b" or "0003_a … 0042_z (40)" when long. */
export function listNames(ms: { id: string; name: string }[]): string {
  const n = (m: { id: string; name: string }) => `${m.id}_${m.name}`;
  if (ms.length <= 4) return ms.map(n).join(', ');
  return `${n(ms[0]!)} … ${n(ms.at(-1)!)} (${ms.length})`;
}
