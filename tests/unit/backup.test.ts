import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { lastBackupAgeSec, parseInfo } from '../../src/backup/info.js';
import { DB_PORT, REPO_PORT } from '../../src/backup/pgbackrest-config.js';
import { readInventory, resolveEnvironment } from '../../src/config/load.js';
import { renderAll } from '../../src/stack/bundle.js';
import { COMPOSE_DIR, servicesFor } from '../../src/stack/compose-files.js';
import { completeEnvText, validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';
import { initSecrets } from '../../src/secrets/init.js';
import { readCa } from '../../src/backup/offsite.js';
import { anotherClustersRepository } from '../../src/bootstrap/phases/services.js';

/** Backups as rendered: pgBackRest on every database node and the repository host, TLS both ways, archiving in Patroni's parameters, the schedule. */
function setup(backup?: unknown) {
  const tmp = tempDir();
  try {
    const doc = validInventory();
    if (backup) doc.environments.dev.backup = backup;
    const env = resolveEnvironment(readInventory(writeInventory(tmp.dir, doc)), 'dev');
    const values = Object.fromEntries(completeEnvText('p-Kq8vT2mZ5xW9pLsXa').split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const { bundles, problems } = renderAll(env, env.nodes, { file: '/x', exists: true, problems: [], values });
    expect(problems).toEqual([]);
    return { env, bundles, file: (node: string, path: string) => bundles.find((b) => b.node === node)!.files.find((f) => f.path === path) };
  } finally {
    tmp.cleanup();
  }
}

describe('pgBackRest as rendered', () => {
  it('every database node runs pgBackRest beside PostgreSQL (implied role "archive"); the backup node also the repository and its schedule', () => {
    const { env } = setup();
    expect(env.nodes.map((n) => n.roles.includes('archive'))).toEqual([true, true, true]);
    expect(servicesFor(env.nodes[2]!.roles, env)).toEqual(expect.arrayContaining(['pgbackrest', 'pgbackrest-repo', 'pgbackrest-schedule']));
    expect(servicesFor(env.nodes[0]!.roles, env)).not.toContain('pgbackrest-repo');
  });

  it("a database node pushes WAL to the repository host over TLS and lets only it in; the repository host knows every node and lets only them in", () => {
    const { file } = setup();
    const db = file('hil-1', 'config/pgbackrest/pgbackrest.conf')!.content;
    expect(db).toContain(`repo1-host=10.0.0.3\nrepo1-host-port=${REPO_PORT}\nrepo1-host-type=tls`);
    expect(db).toContain('tls-server-auth=10.0.0.3=twincigo');
    expect(db).toContain(`tls-server-port=${DB_PORT}`);
    const repo = file('ash-2', 'config/pgbackrest-repo/pgbackrest.conf')!.content;
    for (const [i, ip] of ['10.0.0.1', '10.0.0.2', '10.0.0.3'].entries()) expect(repo).toContain(`pg${i + 1}-host=${ip}\npg${i + 1}-host-port=${DB_PORT}\npg${i + 1}-host-type=tls`);
    expect(repo).toContain('tls-server-auth=10.0.0.1=twincigo\ntls-server-auth=10.0.0.2=twincigo\ntls-server-auth=10.0.0.3=twincigo\n');
    expect(repo).toMatch(/repo1-retention-full=2\n/);
    expect(repo).toContain('backup-standby=y');
    // the key is a secret file; the node's certificate names its address; the CA is the same everywhere
    expect(file('hil-1', 'config/pgbackrest/tls/node.key')!.mode).toBe(0o600);
    expect(file('hil-1', 'config/pgbackrest/tls/ca.crt')!.content).toBe(file('ash-2', 'config/pgbackrest-repo/tls/ca.crt')!.content);
    const dir = mkdtempSync(join(tmpdir(), 'twincigo-pgbr-'));
    writeFileSync(join(dir, 'ca.crt'), file('hil-1', 'config/pgbackrest/tls/ca.crt')!.content);
    writeFileSync(join(dir, 'node.crt'), file('hil-1', 'config/pgbackrest/tls/node.crt')!.content);
    const v = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), '-verify_ip', '10.0.0.1', join(dir, 'node.crt')], { encoding: 'utf8' });
    expect(v.stdout + v.stderr).toContain('OK');
    // the seed never reaches a node
    for (const b of setup().bundles) expect(b.files.find((f) => f.path === '.env')!.content).not.toContain('PGBACKREST_TLS_SEED');
  });

  it("Patroni archives from whichever member leads (archive_mode, pgbackrest archive-push, a segment a minute); not without a repository host", () => {
    const { file } = setup();
    const params = (parse(file('ash-1', 'config/patroni/patroni.yml')!.content) as any).bootstrap.dcs.postgresql.parameters;
    expect(params).toMatchObject({ archive_mode: 'on', archive_command: 'pgbackrest --stanza=twincigo archive-push %p', archive_timeout: 60 });
  });

  it('the schedule: the inventory’s cron expressions (defaults: full Sunday 03:00, diff the other days); the scheduler picks the strongest type due', () => {
    const sched = setup({ schedule: { incr: '*/30 * * * *' } }).file('ash-2', 'config/pgbackrest-repo/schedule')!.content;
    expect(sched.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(['0 3 * * 0 full', '0 3 * * 1-6 diff', '*/30 * * * * incr']);
    const dir = mkdtempSync(join(tmpdir(), 'twincigo-sched-'));
    writeFileSync(join(dir, 'schedule'), sched);
    const due = (t: string) => spawnSync('sh', [`${COMPOSE_DIR}config/pgbackrest-schedule.sh`, 'due', ...t.split(' ')], { encoding: 'utf8', env: { ...process.env, SCHEDULE_DIR: dir } }).stdout.trim();
    expect(due('00 03 29 11 7')).toBe('full'); // Sunday 03:00: full (and incr, and not diff) → full
    expect(due('00 03 30 11 1')).toBe('diff');
    expect(due('30 14 30 11 1')).toBe('incr');
    expect(due('07 14 30 11 1')).toBe('');
  });
});

describe("prod's offsite repository (repo2 on S3, encrypted)", () => {
  function prod(offsite?: Record<string, unknown>, extra: Record<string, string> = {}, nodeSize?: { cpus: number; memoryGiB: number }) {
    const tmp = tempDir();
    try {
      const doc = validInventory();
      doc.environments.dev.profile = 'prod';
      if (nodeSize) doc.environments.dev.nodeSize = nodeSize;
      if (offsite) doc.environments.dev.backup = { offsite };
      writeFileSync(join(tmp.dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const env = resolveEnvironment(readInventory(writeInventory(tmp.dir, doc)), 'dev');
      const values = {
        ...Object.fromEntries(completeEnvText('p-Kq8vT2mZ5xW9pLsXa').split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
        BACKUP_S3_ENDPOINT: 's3.eu-central-003.example.com:9443', BACKUP_S3_BUCKET: 'tw-backups', BACKUP_S3_REGION: 'eu-central-003',
        BACKUP_S3_ACCESS_KEY: 'AKIA-offsite-key-1', BACKUP_S3_SECRET_KEY: 'offsite-secret-Kq8vT2mZ5xW9', PGBACKREST_REPO2_CIPHER_PASS: 'cipher-Kq8vT2mZ5xW9pLsXa-cipher',
        ...extra,
      };
      const { bundles, problems } = renderAll(env, env.nodes, { file: '/x', exists: true, problems: [], values });
      return { env, problems, file: (node: string, path: string) => bundles.find((b) => b.node === node)!.files.find((f) => f.path === path) };
    } finally {
      tmp.cleanup();
    }
  }

  it('the repository host writes repo2 (S3 over HTTPS, path under the environment, aes-256-cbc, its own retention); keys and cipher pass never in a file but the node’s .env', () => {
    const { file } = prod({ uriStyle: 'path', caFile: 'ca.pem', retentionFull: 4 });
    const repo = file('ash-2', 'config/pgbackrest-repo/pgbackrest.conf')!.content;
    expect(repo).toContain(['repo2-type=s3', 'repo2-path=/twincigo/dev', 'repo2-s3-endpoint=s3.eu-central-003.example.com', 'repo2-storage-port=9443', 'repo2-s3-bucket=tw-backups',
      'repo2-s3-region=eu-central-003', 'repo2-s3-uri-style=path', 'repo2-storage-ca-file=/etc/twincigo/pgbackrest/tls/s3-ca.crt', 'repo2-cipher-type=aes-256-cbc', 'repo2-retention-full=4'].join('\n'));
    expect(file('ash-2', 'config/pgbackrest-repo/tls/s3-ca.crt')!.content).toContain('BEGIN CERTIFICATE');
    expect(file('ash-2', 'config/pgbackrest-repo/repositories')!.content).toBe('1 2\n');
    for (const secret of ['AKIA-offsite-key-1', 'offsite-secret-Kq8vT2mZ5xW9', 'cipher-Kq8vT2mZ5xW9pLsXa-cipher']) {
      expect(repo).not.toContain(secret);
      expect(file('ash-2', '.env')!.content).toContain(secret);
      expect(file('hil-1', '.env')!.content).not.toContain(secret); // a database node never holds them
    }
    const override = parse(file('ash-2', 'compose/prod/backup.yml')!.content) as any;
    expect(override.services['pgbackrest-repo'].environment).toEqual({ PGBACKREST_REPO2_S3_KEY: '${BACKUP_S3_ACCESS_KEY}', PGBACKREST_REPO2_S3_KEY_SECRET: '${BACKUP_S3_SECRET_KEY}', PGBACKREST_REPO2_CIPHER_PASS: '${PGBACKREST_REPO2_CIPHER_PASS}' });
  });

  it("pgBackRest's servers fit beside everything else: prod on a CCX33 and scaled to the lab's 2-CPU nodes (what lab-prod runs)", () => {
    const fits = (p: string[]) => p.filter((x) => /CPUs|MiB of memory|limit/.test(x));
    expect(fits(prod().problems)).toEqual([]);
    expect(fits(prod(undefined, {}, { cpus: 2, memoryGiB: 8 }).problems)).toEqual([]);
  });

  it('a database node pushes WAL to both repositories through the repository host, asynchronously (one out of reach does not hold the other back)', () => {
    const db = prod().file('hil-1', 'config/pgbackrest/pgbackrest.conf')!.content;
    expect(db).toContain(`repo2-host=10.0.0.3\nrepo2-host-port=${REPO_PORT}\nrepo2-host-type=tls`);
    expect(db).toContain('archive-async=y\nspool-path=/var/lib/postgresql/data/pgbackrest-spool');
    expect(db).not.toMatch(/repo2-s3|repo2-cipher/);
    // dev: one repository, synchronous push
    const dev = setup().file('hil-1', 'config/pgbackrest/pgbackrest.conf')!.content;
    expect(dev).not.toMatch(/repo2|archive-async/);
    expect(setup().file('ash-2', 'config/pgbackrest-repo/repositories')!.content).toBe('1\n');
  });

  it('secrets init generates the cipher pass but never the provider’s keys; a CA file that is not a certificate is refused', () => {
    const tmp = tempDir();
    try {
      const doc = validInventory();
      doc.environments.dev.profile = 'prod';
      const env = resolveEnvironment(readInventory(writeInventory(tmp.dir, doc)), 'dev');
      const file = join(tmp.dir, 'env');
      writeFileSync(file, '');
      const res = initSecrets(env, { file, exists: true, problems: [], values: {} }, []);
      expect(res.generated).toContain('PGBACKREST_REPO2_CIPHER_PASS');
      expect(res.generated).not.toContain('BACKUP_S3_ACCESS_KEY');
      expect(res.generated).not.toContain('BACKUP_S3_SECRET_KEY');
    } finally {
      tmp.cleanup();
    }
    expect(() => readCa('/nonexistent/ca.pem')).toThrow(/backup.offsite.caFile: cannot read \/nonexistent\/ca.pem \(ENOENT\)/);
    expect(() => readCa(`${COMPOSE_DIR}backup.yml`)).toThrow(/is not a PEM certificate/);
  });
});

describe('pgbackrest info', () => {
  const sample = JSON.stringify([{
    name: 'twincigo',
    status: { code: 0, message: 'ok' },
    archive: [{ id: '17-1', min: '000000010000000000000003', max: '00000002000000000000000A' }],
    backup: [
      { label: '20261130-100000F', type: 'full', prior: null, timestamp: { start: 1796032800, stop: 1796032830 }, archive: { start: '000000010000000000000004', stop: '000000010000000000000004' }, info: { size: 31_000_000, delta: 31_000_000, repository: { size: 4_100_000, delta: 4_100_000 } } },
      { label: '20261130-100000F_20261130-110000I', type: 'incr', prior: '20261130-100000F', timestamp: { start: 1796036400, stop: 1796036405 }, archive: { start: '000000020000000000000009', stop: '000000020000000000000009' }, info: { size: 31_500_000, delta: 600_000, repository: { size: 4_200_000, delta: 120_000 } } },
    ],
  }]);

  it('reads the backups (sizes, WAL ranges, what an incremental depends on) and the archive; the last backup’s age', () => {
    const [info] = parseInfo(sample);
    expect(info!.backups.map((b) => [b.label, b.type, b.repositoryBytes, b.reference])).toEqual([
      ['20261130-100000F', 'full', 4_100_000, null],
      ['20261130-100000F_20261130-110000I', 'incr', 120_000, '20261130-100000F'],
    ]);
    expect(info!.backups[0]!.stop).toBe('2026-11-30T10:00:30.000Z');
    expect(info!.wal).toEqual({ min: '000000010000000000000003', max: '00000002000000000000000A' });
    expect(lastBackupAgeSec(info!, Date.parse('2026-11-30T11:10:05Z'))).toBe(600);
    expect(parseInfo(JSON.stringify([{ name: 'twincigo', status: { code: 2, message: 'no valid backups' }, backup: [], archive: [] }]))[0]).toMatchObject({ backups: [], wal: null, status: { code: 2 } });
  });

  it("a repository holding another cluster's backups (pgBackRest [028]) is said as such, with both ways out; other errors pass through", () => {
    // the text a lab-prod bootstrap printed when the offsite bucket still held the cluster wiped before it
    const offsite = new Error(`lab-ash-2: \`docker exec -u postgres twincigo-pgbackrest-repo-1 sh -c '...'\` exited with 28:
    2026-12-01 03:04:01.021 P00   INFO: stanza-create for stanza 'twincigo' on repo1
    2026-12-01 03:04:01.021 P00   INFO: stanza-create for stanza 'twincigo' on repo2
    2026-12-01 03:04:01.121 P00  ERROR: [028]: backup and archive info files exist but do not match the database
                                        HINT: is this the correct stanza?`);
    const e = anotherClustersRepository(offsite, 'lab-prod')!;
    expect(e.message).toBe('pgBackRest: the offsite repository (repo2: /twincigo/lab-prod in BACKUP_S3_BUCKET) holds the backups of another cluster (another database system identifier) — this one cannot archive there');
    expect(e.hints.join('\n')).toContain("pgbackrest --stanza=twincigo stop && pgbackrest --stanza=twincigo --repo=2 stanza-delete --force; pgbackrest --stanza=twincigo start");
    expect(e.hints[0]).toContain('another BACKUP_S3_BUCKET');
    expect(anotherClustersRepository(new Error(offsite.message.replace(/ on repo2\n/, '\n').replace(/.*on repo1\n/, '')), 'x')!.message).toContain('(repo1)');
    expect(anotherClustersRepository(new Error('exited with 56: [056]: unable to find primary cluster'), 'x')).toBeUndefined();
  });
});
