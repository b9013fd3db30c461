import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, containerName } from '../lab/config.ts';
import { inNode, waitFor } from '../lab/run.ts';
import { runCli } from '../helpers/cli.js';
import { LabCluster } from './cluster.ts';

/**
 * Backups on the dev lab (pgBackRest 2.55 from Debian, the repository on lab-ash-2, TLS both ways):
 * bootstrap sets up the stanza and takes a first full backup; archiving works end to end
 * (`backup check`), also after a failover (a new timeline, no gap); an incremental on demand;
 * the schedule on the repository host takes backups by itself; status degrades when archiving fails.
 */
const lab = new LabCluster();
const ENV = 'lab';
const LAB_INVENTORY = `${REPO}twincigo.lab.yml`;
const saved = readFileSync(LAB_INVENTORY, 'utf8');
const cli = (args: string[], timeoutMs = 300_000) => runCli([...args, '--env', ENV, '--yes'], { timeoutMs });
const json = async (args: string[], timeoutMs?: number) => {
  const r = await cli([...args, '--json'], timeoutMs);
  return { ...r, body: r.stdout.trim() ? JSON.parse(r.stdout) : null };
};
const repoNode = containerName('lab-ash-2');

// the cluster another file left running is reused (bootstrap's own stanza step is what upAll runs too)
beforeAll(() => lab.upAll(), 1_000_000);
afterAll(async () => {
  writeFileSync(LAB_INVENTORY, saved);
  await lab.release();
});

describe('backups (pgBackRest)', () => {
  it('the stanza is there with a first full backup; status shows it and WAL reaching the repository', async () => {
    const list = await json(['backup', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.body.backups[0].type).toBe('full');
    expect(list.body.status.code).toBe(0);
    const s = await json(['status']);
    expect(s.code, JSON.stringify(s.body?.warnings)).toBe(0);
    expect(s.body.backups).toMatchObject({ repository: 'lab-ash-2', wal: { failing: false } });
    expect((await cli(['backup', 'check'])).code).toBe(0);
  });

  it('an incremental on demand is taken from a standby and depends on the full one', async () => {
    await lab.upload(); // connections for the queries below
    await lab.query(0, 5000, 'create table if not exists e2e_backup (id serial primary key, note text); insert into e2e_backup (note) select md5(i::text) from generate_series(1, 5000) i');
    const res = await json(['backup', '--type', 'incr'], 600_000);
    expect(res.code, res.stderr).toBe(0);
    expect(res.body.backup).toMatchObject({ type: 'incr', reference: expect.stringMatching(/F$/) });
    expect(res.body.fromStandby).toBe(true);
    const list = await json(['backup', 'list']);
    expect(list.body.backups.at(-1)).toMatchObject({ label: res.body.backup.label, type: 'incr' });
  });

  it('a failover while archiving: the new leader archives on its new timeline, `backup check` passes, no gap in the archive', async () => {
    const before = (await json(['status'])).body.leader as string;
    await inNode(containerName(before), ['docker', 'kill', 'twincigo-patroni-1']);
    try {
      await waitFor('a new leader', async () => {
        const s = await json(['status']);
        return s.body?.leader && s.body.leader !== before ? s.body.leader : false;
      }, 120_000, 1000);
    } finally {
      await inNode(containerName(before), ['docker', 'start', 'twincigo-patroni-1']);
    }
    const check = await cli(['backup', 'check'], 300_000);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const list = await json(['backup', 'list']);
    // the archive's newest segment is on the new timeline (2 or later), its oldest still there: one range, no gap
    expect(list.body.wal.max.slice(0, 8)).not.toBe(list.body.wal.min.slice(0, 8));
    await waitFor('healthy again', async () => (await cli(['status', '--quiet'], 60_000)).code === 0, 180_000, 2000);
  }, 600_000);

  it('the schedule on the repository host takes backups by itself (incr every minute here)', async () => {
    writeFileSync(LAB_INVENTORY, saved.replace(/^( {4}rttMs: .*)$/m, `$1\n    backup:\n      schedule:\n        incr: "* * * * *"`));
    const dep = await cli(['deploy', '--json'], 400_000);
    expect(dep.code, dep.stderr.slice(-2000)).toBe(0);
    const count = async () => (await json(['backup', 'list'])).body.backups.length as number;
    const before = await count();
    await waitFor('a scheduled backup', async () => (await count()) > before, 180_000, 5000);
    const log = await inNode(repoNode, ['docker', 'logs', '--tail', '50', 'twincigo-pgbackrest-schedule-1']);
    expect(log.stdout + log.stderr).toMatch(/pgbackrest-schedule: \S+ incr backup/);
    writeFileSync(LAB_INVENTORY, saved);
    expect((await cli(['deploy'], 400_000)).code).toBe(0);
  }, 600_000);

  it('the repository host down: archiving fails, status is degraded and says so; back up: healthy', async () => {
    // status allows WAL to wait 1 minute here (the inventory's backup.maxWalAgeMinutes; read by status alone)
    writeFileSync(LAB_INVENTORY, saved.replace(/^( {4}rttMs: .*)$/m, `$1\n    backup:\n      maxWalAgeMinutes: 1`));
    await inNode(repoNode, ['docker', 'stop', 'twincigo-pgbackrest-repo-1']);
    try {
      await lab.query(0, 5000, "insert into e2e_backup (note) values ('while the repository is down'); select pg_switch_wal()");
      const s = await waitFor('status naming the archiving failure', async () => {
        const r = await json(['status']);
        const w = r.body.warnings as string[];
        return r.code === 3 && w.some((x) => /backups unknown: pgBackRest on the repository host lab-ash-2 did not answer/.test(x)) && w.some((x) => /WAL archiving is (failing|behind)/.test(x)) ? r : false;
      }, 180_000, 3000);
      expect(s.body.healthy).toBe(false);
      expect(s.body.backups.wal.unarchivedBytes).toBeGreaterThan(0);
    } finally {
      await inNode(repoNode, ['docker', 'start', 'twincigo-pgbackrest-repo-1']);
      writeFileSync(LAB_INVENTORY, saved);
    }
    await waitFor('archiving back and status healthy', async () => (await cli(['status', '--quiet'], 60_000)).code === 0, 180_000, 3000);
  }, 400_000);

  it('restore refuses a target the repository cannot reach, and asks for --to without a TTY — nothing changed', async () => {
    const timeline = (await json(['status'])).body.timeline;
    const old = await cli(['restore', '--to', '2020-01-01T00:00:00Z']);
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(/before the oldest backup's end/);
    const none = await runCli(['restore', '--env', ENV], { timeoutMs: 60_000 });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--to/);
    const noZone = await cli(['restore', '--to', '2026-11-30 12:00:00']);
    expect(noZone.stderr).toMatch(/a time with its zone/);
    const s = await json(['status']);
    expect(s.code, JSON.stringify(s.body.warnings)).toBe(0);
    expect(s.body.timeline).toBe(timeline);
  });

  it('point-in-time: rows written every 100 ms for a minute, restore --to the middle → every row acknowledged before it, none sent after it; restore-test passes, and fails on a corrupted backup', async () => {
    await lab.query(0, 5000, 'create table if not exists e2e_pitr (id int primary key, at timestamptz not null default clock_timestamp())');
    // the writer: a row every 100 ms through HAProxy :5000 for 60 s; a line per acknowledged row: id, sent (ms), acknowledged (ms)
    const script = `end=$(( $(date +%s) + 60 )); i=0; while [ $(date +%s) -lt $end ]; do i=$((i+1)); s=$(date +%s%3N);
      if PGPASSWORD="$PATRONI_SUPERUSER_PASSWORD" PGCONNECT_TIMEOUT=2 psql -X -q -h 127.0.0.1 -p 5000 -U postgres -d postgres -c "insert into e2e_pitr (id) values ($i)" >/dev/null 2>&1; then echo "$i $s $(date +%s%3N)"; fi; sleep 0.1; done`;
    const writer = inNode(containerName('lab-hil-1'), ['docker', 'exec', 'twincigo-patroni-1', 'sh', '-c', script]);
    const middle = new Promise<number>((r) => setTimeout(() => r(Date.now()), 30_000));

    // meanwhile, the drill: the latest backup + WAL restored into a scratch container on a replica's node
    const drill = await json(['restore-test'], 600_000);
    expect(drill.code, drill.stderr.slice(-2000)).toBe(0);
    const leader = (await json(['status'])).body.leader as string;
    expect(drill.body).toMatchObject({ ok: true, answer: { userTables: expect.any(Number) } });
    expect(drill.body.node).not.toBe(leader);
    expect(drill.body.answer.userTables).toBeGreaterThanOrEqual(2);
    // nothing of the drill left behind on its node
    const left = await inNode(containerName(drill.body.node), ['sh', '-c', 'docker ps -a --format "{{.Names}}"; docker volume ls --format "{{.Name}}"']);
    expect(left.stdout).not.toMatch(/twincigo-restore/);

    // a corrupted file in the newest backup: the drill fails (exit 1) and says why
    const label = (await json(['backup', 'list'])).body.backups.at(-1).label as string;
    const file = `/var/lib/pgbackrest/backup/twincigo/${label}/pg_data/global/pg_control.zst`;
    await inNode(repoNode, ['docker', 'exec', 'twincigo-pgbackrest-repo-1', 'sh', '-c', `cp -p ${file} /tmp/pg_control.saved && printf 'corrupted on purpose' | dd of=${file} bs=1 seek=12 conv=notrunc 2>/dev/null`]);
    try {
      const bad = await json(['restore-test'], 600_000);
      expect(bad.code, bad.stdout).toBe(1);
      expect(bad.body.ok).toBe(false);
      expect(bad.body.error).toMatch(/ERROR/);
    } finally {
      await inNode(repoNode, ['docker', 'exec', 'twincigo-pgbackrest-repo-1', 'sh', '-c', `cp -p /tmp/pg_control.saved ${file}`]);
    }

    const T = await middle;
    const rows = (await writer).stdout.trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number, number]);
    expect(rows.length).toBeGreaterThan(300);
    const before = rows.filter(([, , ack]) => ack < T).map(([id]) => id);
    const after = rows.filter(([, sent]) => sent > T).map(([id]) => id);
    expect(before.length).toBeGreaterThan(100);
    expect(after.length).toBeGreaterThan(100);

    const timelineBefore = (await json(['status'])).body.timeline as number;
    const res = await json(['restore', '--to', new Date(T).toISOString()], 900_000);
    expect(res.code, res.stderr.slice(-3000)).toBe(0);
    expect(res.body).toMatchObject({ leader, archivedBeforeRestore: true });
    expect(res.body.timeline).toBeGreaterThan(timelineBefore);
    expect(res.body.recovery.join('\n')).toMatch(/recovery stopping before commit/);
    process.stderr.write(`[e2e] restore --to T: ${res.body.durationSeconds} s (files ${res.body.filesSeconds} s, recovery ${res.body.recoverySeconds} s); ${before.length} rows before T, ${after.length} after\n`);

    await lab.upload(); // the restored cluster: new connections
    const present = new Set((await lab.query(0, 5000, 'select id from e2e_pitr')).split('\n').filter(Boolean).map(Number));
    expect(before.filter((id) => !present.has(id))).toEqual([]);
    expect(after.filter((id) => present.has(id))).toEqual([]);
    const s = await json(['status']);
    expect(s.code, JSON.stringify(s.body.warnings)).toBe(0);
    expect(s.body.members.filter((m: { role: string; state: string }) => m.role !== 'leader' && m.state === 'streaming')).toHaveLength(2);
    expect((await cli(['backup', 'check'])).code).toBe(0);
    // the restore is in the audit log
    const audit = await cli(['audit', '--json']);
    expect(audit.stdout).toMatch(/restore --to/);
  }, 900_000);
});

