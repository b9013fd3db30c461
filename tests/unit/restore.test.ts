import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { BackupInfo } from '../../src/backup/info.js';
import { checkTarget, parseTarget, restoreOptions } from '../../src/backup/target.js';
import { parseRestoreOutput, restoreCommand } from '../../src/remote/restore.js';
import { render } from '../../src/remote/shell.js';

const info = (stops: string[]): BackupInfo => ({
  stanza: 'twincigo',
  status: { code: 0, message: 'ok' },
  backups: stops.map((stop, i) => ({ label: i === 0 ? '20261130-120000F' : `20261130-120000F_20261130-1${i}0000I`, type: i === 0 ? 'full' : 'incr', start: stop, stop, databaseBytes: 1, repositoryBytes: 1, walStart: '', walStop: '', reference: null })),
  wal: null,
});

describe('restore targets (--to)', () => {
  it('reads a time with its zone, a label, latest — and refuses a time without a zone', () => {
    expect(parseTarget('latest')).toEqual({ kind: 'latest' });
    expect(parseTarget('20261130-120000F')).toEqual({ kind: 'label', label: '20261130-120000F' });
    expect(parseTarget('20261130-120000F_20261130-130000I')).toEqual({ kind: 'label', label: '20261130-120000F_20261130-130000I' });
    const at = (s: string) => (parseTarget(s) as { at: Date }).at.toISOString();
    expect(at('2026-11-30T12:00:00Z')).toBe('2026-11-30T12:00:00.000Z');
    expect(at('2026-11-30 13:00:00.250+01:00')).toBe('2026-11-30T12:00:00.250Z');
    expect(at('2026-11-30T07:00:00-0500')).toBe('2026-11-30T12:00:00.000Z');
    expect(at('2026-11-30T14:00+02')).toBe('2026-11-30T12:00:00.000Z');
    expect(() => parseTarget('2026-11-30 12:00:00')).toThrow(/not a time, a backup label or "latest"/);
    expect(() => parseTarget('yesterday')).toThrow(/--to yesterday/);
    expect(() => parseTarget('2026-13-45T12:00:00Z')).toThrow();
  });

  it('checks the target against the repository: a label it keeps, a time after the oldest backup and not in the future', () => {
    const i = info(['2026-11-30T12:00:10.000Z', '2026-11-30T13:00:05.000Z']);
    const now = new Date('2026-11-30T14:00:00Z');
    expect(() => checkTarget(parseTarget('latest'), i, now)).not.toThrow();
    expect(() => checkTarget(parseTarget('2026-11-30T12:30:00Z'), i, now)).not.toThrow();
    expect(() => checkTarget(parseTarget('2026-11-30T12:00:05Z'), i, now)).toThrow(/before the oldest backup's end/);
    expect(() => checkTarget(parseTarget('2026-11-30T15:00:00Z'), i, now)).toThrow(/in the future/);
    expect(() => checkTarget(parseTarget('20261129-120000F'), i, now)).toThrow(/no backup labelled 20261129-120000F/);
    expect(() => checkTarget(parseTarget('latest'), info([]), now)).toThrow(/holds no backup/);
  });

  it("pgBackRest's options: promoted at the target, the newest timeline followed", () => {
    expect(restoreOptions(parseTarget('2026-11-30T12:00:00.5Z'))).toEqual(['--type=time', '--target=2026-11-30 12:00:00.500+00', '--target-action=promote', '--target-timeline=latest']);
    expect(restoreOptions(parseTarget('20261130-120000F'))).toEqual(['--set=20261130-120000F', '--type=immediate', '--target-action=promote']);
    expect(restoreOptions(parseTarget('latest'))).toEqual(['--type=default', '--target-timeline=latest']);
  });
});

describe('the restore script', () => {
  it('is valid POSIX shell, both the node side and the container side', () => {
    const cmd = restoreCommand('scratch', '/opt/twincigo', ['--type=default'], 1e9);
    const argv = (cmd as { argv: string[] }).argv;
    const innerText = argv.find((a) => a.startsWith('INNER='))!.slice('INNER='.length);
    const outerText = argv[argv.indexOf('-c') + 1]!;
    for (const script of [outerText, innerText, render(cmd)]) expect(spawnSync('sh', ['-n', '-c', script]).status, script).toBe(0);
    // the scratch never archives into the repository and never listens on a port
    expect(innerText).toContain('archive_mode=off');
    expect(innerText).toContain('listen_addresses= ');
  });

  it("reads the script's markers", () => {
    const o = parseRestoreOutput('@restored 5100\n@started 9200\n@log recovery stopping before commit of transaction 812, time 2026-11-30 12:00:00.61+00\n@answer 3 8123456 4\n@stopped 9900\n');
    expect(o).toEqual({ restoredMs: 5100, startedMs: 9200, stoppedMs: 9900, timeline: 3, databaseBytes: 8123456, userTables: 4, log: ['recovery stopping before commit of transaction 812, time 2026-11-30 12:00:00.61+00'] });
    expect(parseRestoreOutput('ERROR: [075]: no backup set found').startedMs).toBeNull();
  });
});
