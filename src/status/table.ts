import type { ClusterStatus } from './model.js';

const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
const bytes = (b: number | null) => (b === null ? '?' : b === 0 ? '0' : b < 1024 * 1024 ? `${Math.round(b / 1024)}k` : `${(b / 1024 / 1024).toFixed(1)}M`);

/** The human table: fits 100 columns; colour only through `paint` (identity without a TTY). */
export function statusTable(s: ClusterStatus, paint: { ok: (t: string) => string; bad: (t: string) => string; warn: (t: string) => string }): string {
  const lines: string[] = [];
  const head = s.healthy ? paint.ok('healthy') : s.exitCode === 4 ? paint.bad('DOWN: no leader') : paint.warn('degraded');
  lines.push(`${s.environment}: ${head} · leader ${s.leader ?? '-'} (timeline ${s.timeline ?? '-'}) · etcd ${s.etcd.healthyMembers}/${s.etcd.members}${s.etcd.quorum ? '' : ' NO QUORUM'}${s.etcd.leader ? ` (leader ${s.etcd.leader})` : ''} · :5000 → ${s.haproxy.primary ?? 'disagree'}${s.paused ? ' · PAUSED' : ''}`);
  lines.push('');
  lines.push(`${pad('NODE', 18)}${pad('SSH', 7)}${pad('ROLE', 9)}${pad('STATE', 11)}${pad('TL', 4)}${pad('LAG', 7)}${pad('ETCD', 9)}${pad(':5000→', 14)}${pad('CONTAINERS', 12)}${pad('DISK', 5)}MEM`);
  for (const m of s.members) {
    if (!m.reachable) {
      lines.push(`${pad(m.name, 18)}${paint.bad(pad(m.presence === 'gone' ? 'gone' : 'down', 7))}${m.error ?? ''}`.slice(0, 100));
      continue;
    }
    const up = m.containers.filter((c) => c.state === 'running' && c.health !== 'unhealthy').length;
    const etcd = m.etcd ? (m.etcd.healthy ? (m.etcd.isLeader ? 'leader' : 'ok') : 'DOWN') : '-';
    const cont = `${up}/${m.containers.length}${up === m.containers.length ? ' ok' : ''}`;
    const role = m.role ?? '-';
    lines.push(
      `${pad(m.name, 18)}${pad(`${m.sshMs ?? '?'}ms`, 7)}${pad(role, 9)}${pad(m.state ?? '-', 11)}${pad(String(m.timeline ?? '-'), 4)}${pad(role === 'leader' ? '-' : bytes(m.lagBytes), 7)}${pad(etcd, 9)}${pad(m.haproxy?.primary.join('+') || '-', 14)}${pad(cont, 12)}${pad(m.disk ? `${m.disk.usedPct}%` : '-', 5)}${m.memory ? `${m.memory.usedPct}%` : '-'}`,
    );
  }
  if (s.warnings.length > 0) lines.push('', ...s.warnings.map((w) => paint.warn(`! ${w}`)));
  if (s.alerts && s.alerts.length > 0) {
    lines.push('', 'Firing alerts (Alertmanager):', ...s.alerts.map((a) => `  ${a.severity.padEnd(8)} ${a.name}${a.node ? ` on ${a.node}` : ''} since ${a.since.slice(0, 19).replace('T', ' ')} — ${a.summary}`));
  } else if (s.alerts) lines.push('', 'Firing alerts (Alertmanager): none');
  if (s.backups) {
    const b = s.backups;
    const age = (sec: number | null) => (sec === null ? '?' : sec >= 7200 ? `${(sec / 3600).toFixed(1)} h ago` : `${Math.round(sec / 60)} min ago`);
    lines.push('', `Backups (${b.repository}): ${b.lastBackup ? `last ${b.lastBackup.type} ${b.lastBackup.label}, ${age(b.lastBackupAgeSec)}` : 'none yet'}; WAL ${b.wal ? `${b.wal.failing ? 'FAILING' : 'archived'} ${b.wal.lastArchived ?? '(none)'} ${age(b.wal.lastArchivedAgeSec)}` : 'unknown'}`);
  }
  if (s.stack && s.stack.length > 0) {
    lines.push('', 'App tier (Swarm stack):', ...s.stack.map((x) => {
      const count = `${x.running}/${x.desired}`;
      return `  ${pad(x.service, 10)}${x.running < x.desired ? paint.warn(pad(count, 6)) : pad(count, 6)}${x.nodes.join(', ') || '-'}`;
    }));
  }
  return lines.join('\n');
}
