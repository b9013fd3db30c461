import { describe, expect, it } from 'vitest';
import { requestSwitchover } from '../../src/cluster/patroni.js';
import { probeCollector, summarizeProbe, writeProbeCommand, type ProbeEvent } from '../../src/cluster/write-probe.js';
import { nodePrefixes, PrefixedLines } from '../../src/output/lines.js';
import { execIn } from '../../src/remote/compose.js';
import { render } from '../../src/remote/shell.js';
import { mergeAudit, readAuditCommand } from '../../src/audit/read.js';
import { logsCommand } from '../../src/remote/logs.js';

describe('logs', () => {
  it('docker logs of the service container, stderr merged, options as given', () => {
    expect(render(logsCommand('patroni', { lines: 50, since: '10m', follow: true }), { sudo: true })).toBe(
      'sudo -n -- docker logs --timestamps --tail 50 --since 10m --follow twincigo-patroni-1 2>&1',
    );
    expect(render(logsCommand('etcd', { lines: 100, follow: false }))).toBe('docker logs --timestamps --tail 100 twincigo-etcd-1 2>&1');
  });

  it('prefixes whole lines only, filters, and flushes the last partial line', () => {
    const out: string[] = [];
    const lines = new PrefixedLines('ash-1 | ', (l) => out.push(l), (l) => !l.includes('skip'));
    lines.push('one\ntw');
    lines.push('o\r\nskip me\nthr');
    expect(out).toEqual(['ash-1 | one\n', 'ash-1 | two\n']);
    lines.end();
    expect(out.at(-1)).toBe('ash-1 | thr\n');
  });

  it('pads node names to one width; colour only when asked', () => {
    expect([...nodePrefixes(['hil-1', 'ash-10'], false).values()]).toEqual(['hil-1  | ', 'ash-10 | ']);
    expect(nodePrefixes(['a'], true).get('a')).toBe('\x1b[36ma\x1b[0m | ');
  });
});

describe('audit', () => {
  it('reads the last lines, a missing log is empty', () => {
    expect(render(readAuditCommand('/opt/t', 20))).toBe('sh -c \'[ -r "$1" ] || exit 0; tail -n "$2" -- "$1"\' sh /opt/t/audit.log 20');
  });

  it('merges the nodes by time and keeps the last N', () => {
    const merged = mergeAudit([
      { node: 'hil-1', text: '2026-11-25T10:00:02.000Z user=a env=dev command="bootstrap" result=ok\n2026-11-25T10:00:05.000Z user=a env=dev command="lock release" result=ok\n' },
      { node: 'ash-1', text: '2026-11-25T10:00:01.000Z user=a env=dev command="lock acquire" result=ok\n2026-11-25T10:00:02.000Z user=a env=dev command="bootstrap" result=ok\n' },
    ], 3);
    expect(merged.map((e) => `${e.time} ${e.node} ${e.line.split(' ')[2]}`)).toEqual([
      '2026-11-25T10:00:02.000Z ash-1 command="bootstrap"',
      '2026-11-25T10:00:02.000Z hil-1 command="bootstrap"',
      '2026-11-25T10:00:05.000Z hil-1 command="lock',
    ]);
  });
});

describe('exec in a service', () => {
  it('docker exec by compose container name, -i/-t only when attached', () => {
    expect(render(execIn('patroni', ['patronictl', 'list']))).toBe('docker exec twincigo-patroni-1 patronictl list');
    expect(render(execIn('patroni', ['psql'], { stdin: true, tty: true }), { sudo: true })).toBe('sudo -n -- docker exec -i -t twincigo-patroni-1 psql');
  });
});

describe('switchover', () => {
  /** A connection that records the command and answers as Patroni's REST API would (body, then the HTTP code). */
  const answering = (stdout: string) => {
    const seen: string[] = [];
    return { seen, conn: { run: async (cmd: Parameters<typeof render>[0]) => (seen.push(render(cmd)), { stdout, stderr: '', code: 0 }) } as never };
  };

  it('posts to Patroni on the node, credentials from the container via stdin config', async () => {
    const { seen, conn } = answering('Successfully switched over to "ash-1"\n200');
    expect(await requestSwitchover(conn, 'hil-1', 'ash-1', 1000)).toBe('Successfully switched over to "ash-1"');
    const cmd = seen[0]!;
    expect(cmd.startsWith("docker exec twincigo-patroni-1 sh -c 'printf")).toBe(true);
    expect(cmd).toContain('curl -sS -K - ');
    expect(cmd.endsWith(` sh POST '{"leader":"hil-1","candidate":"ash-1"}' /switchover`)).toBe(true);
    expect(cmd).not.toMatch(/PASSWORD=/);
  });

  it('reads the HTTP code from the last line; a refusal says why', async () => {
    const { conn } = answering('candidate name does not match with sync_standby\n412\n');
    await expect(requestSwitchover(conn, 'hil-1', 'ash-1', 1000)).rejects.toThrow('Patroni refused the switchover hil-1 → ash-1 (HTTP 412): candidate name does not match with sync_standby');
  });
});

describe('write probe', () => {
  it('refuses run ids that are not plain', () => {
    expect(() => writeProbeCommand("x'; drop table")).toThrow('bad probe run id');
    expect(render(writeProbeCommand('p1abc', 0.1, 60))).toMatch(/ sh p1abc 0\.1 60$/);
  });

  it('outage = the longest gap between acknowledged answers, writes and reads apart', () => {
    const events: ProbeEvent[] = [];
    const feed = probeCollector(events);
    feed('w ok 1 10.0.0.1 1000\nw ok 2 10.0.0.1 11');
    feed('00\nr ok 0 10.0.0.2 1150\nw err 3 - 1300\nw err 4 - 2400\nr ok 0 10.0.0.2 1250\nw ok 5 10.0.0.3 3600\nw ok 6 10.0.0.3 3700\ngarbage\n');
    expect(events[1]).toEqual({ kind: 'w', ok: true, seq: 2, addr: '10.0.0.1', atMs: 1100 });
    expect(events[3]).toEqual({ kind: 'w', ok: false, seq: 3, addr: null, atMs: 1300 });
    expect(summarizeProbe(events)).toEqual({ attempts: 6, acknowledged: 4, failed: 2, outageSeconds: 2.5, gap: { fromMs: 1100, toMs: 3600 } });
    expect(summarizeProbe(events, 'r')).toMatchObject({ attempts: 2, acknowledged: 2, outageSeconds: 0.1 });
    expect(summarizeProbe([]).outageSeconds).toBe(0);
  });

  it("answers stamped on the node's clock are moved to ours", () => {
    const events: ProbeEvent[] = [];
    probeCollector(events, 250.4)('w ok 1 10.0.0.1 10250\nr err 0 - 9000\n');
    expect(events.map((e) => e.atMs)).toEqual([10000, 8750]);
  });
});
