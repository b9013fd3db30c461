import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, containerName } from '../lab/config.ts';
import { wipeStack } from '../lab/faults.ts';
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

beforeAll(async () => {
  await wipeStack();
  const res = await cli(['bootstrap', '--json'], 900_000);
  if (res.code !== 0) throw new Error(`bootstrap failed: ${res.stderr.slice(-3000)}`);
}, 1_000_000);
afterAll(async () => {
  writeFileSync(LAB_INVENTORY, saved);
  await lab.release();
});

describe('backups (pgBackRest)', () => {
  it('bootstrap created the stanza and took a first full backup; status shows it and WAL reaching the repository', async () => {
    const list = await json(['backup', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.body.backups.map((b: { type: string }) => b.type)).toEqual(['full']);
    expect(list.body.status.code).toBe(0);
    const s = await json(['status']);
    expect(s.code, JSON.stringify(s.body?.warnings)).toBe(0);
    expect(s.body.backups).toMatchObject({ repository: 'lab-ash-2', lastBackup: { type: 'full' }, wal: { failing: false } });
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
    expect(list.body.backups.map((b: { type: string }) => b.type)).toEqual(['full', 'incr']);
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
});
