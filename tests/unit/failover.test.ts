import { describe, expect, it } from 'vitest';
import type { NodeConfig } from '../../src/config/model.js';
import type { DrillResult } from '../../src/failover/drill.js';
import type { PatroniMember } from '../../src/cluster/patroni.js';
import { LeaderWatch } from '../../src/failover/leader-watch.js';
import { aggregate, reportTable } from '../../src/failover/report.js';
import { faultFor, SCENARIO_INFO, SCENARIOS } from '../../src/failover/scenarios.js';
import { render } from '../../src/remote/shell.js';

const node = (name: string, ip: string): NodeConfig => ({ name, host: ip, privateAddress: ip, roles: ['etcd', 'patroni', 'haproxy'], ssh: {} });
const [a, b, c] = [node('hil-1', '10.0.0.1'), node('ash-1', '10.0.0.2'), node('ash-2', '10.0.0.3')];

describe('failover scenarios', () => {
  it('every scenario has a goal; the leader moves except when a replica is lost', () => {
    expect(SCENARIOS.map((s) => [s, SCENARIO_INFO[s].maxOutageSeconds, SCENARIO_INFO[s].leaderChanges])).toEqual([
      ['kill-leader', 20, true], ['stop-leader', 5, true], ['switchover', 5, true], ['node-down', 25, true], ['partition', 25, true], ['replica-loss', 1, false], ['app-node-down', 15, false],
    ]);
    // the API (Swarm) may be out 5 s beyond the write outage when the leader moves, 5 s when it does not
    expect(new Set(SCENARIOS.map((s) => SCENARIO_INFO[s].apiOutageSeconds))).toEqual(new Set([5]));
  });

  it('faults and their restores are exact commands on the target node', () => {
    const kill = faultFor('kill-leader', a!, [b!, c!]);
    expect([render(kill.inject, { sudo: true }), render(kill.restore, { sudo: true })]).toEqual(['sudo -n -- docker kill twincigo-patroni-1', 'sudo -n -- docker start twincigo-patroni-1']);
    expect(render(faultFor('stop-leader', a!, []).inject)).toBe('docker stop --time 45 twincigo-patroni-1');
    const down = faultFor('node-down', a!, []);
    // every container dies (Swarm's tasks too: Swarm starts new ones); only Compose's are started again
    expect(render(down.inject)).toBe("sh -c 'docker ps -q --filter label=com.docker.compose.project=twincigo > /tmp/twincigo-node-down.ids && docker ps -q | xargs -r docker kill >/dev/null'");
    expect(render(down.restore)).toContain('xargs -r docker start < /tmp/twincigo-node-down.ids');
  });

  it('app-node-down cuts the node off from everyone (containers too) but the operator’s SSH, then heals', () => {
    const cut = faultFor('app-node-down', { ...b!, ssh: { ...b!.ssh, port: 2222 } }, [a!, c!]);
    expect(render(cut.inject)).toBe(
      "sh -c 'iptables -N TWINCIGO-CUT 2>/dev/null || iptables -F TWINCIGO-CUT' && iptables -A TWINCIGO-CUT -i lo -j RETURN && " +
        'iptables -A TWINCIGO-CUT -p tcp --dport 22 -j RETURN && iptables -A TWINCIGO-CUT -p tcp --sport 22 -j RETURN && ' +
        'iptables -A TWINCIGO-CUT -p tcp --dport 2222 -j RETURN && iptables -A TWINCIGO-CUT -p tcp --sport 2222 -j RETURN && ' +
        'iptables -A TWINCIGO-CUT -j DROP && iptables -I INPUT 1 -j TWINCIGO-CUT && iptables -I OUTPUT 1 -j TWINCIGO-CUT && iptables -I FORWARD 1 -j TWINCIGO-CUT',
    );
    expect(render(cut.restore)).toContain('while iptables -D FORWARD -j TWINCIGO-CUT 2>/dev/null; do :; done');
  });

  it('a partition drops the peers both ways in a chain of its own; the heal removes it and can run twice', () => {
    const p = faultFor('partition', a!, [b!, c!]);
    expect(render(p.inject)).toBe(
      "sh -c 'iptables -N TWINCIGO-PARTITION 2>/dev/null || iptables -F TWINCIGO-PARTITION' && " +
        'iptables -A TWINCIGO-PARTITION -s 10.0.0.2 -j DROP && iptables -A TWINCIGO-PARTITION -d 10.0.0.2 -j DROP && ' +
        'iptables -A TWINCIGO-PARTITION -s 10.0.0.3 -j DROP && iptables -A TWINCIGO-PARTITION -d 10.0.0.3 -j DROP && ' +
        'iptables -I INPUT 1 -j TWINCIGO-PARTITION && iptables -I OUTPUT 1 -j TWINCIGO-PARTITION',
    );
    expect(render(p.restore)).toMatch(/^sh -c 'while iptables -D INPUT -j TWINCIGO-PARTITION .*; sh -c 'iptables -F TWINCIGO-PARTITION 2>\/dev\/null; iptables -X TWINCIGO-PARTITION 2>\/dev\/null; true'$/);
  });
});

const result = (outage: number, extra: Partial<DrillResult> = {}): DrillResult => ({
  scenario: 'kill-leader', synchronousStandby: null, oldLeader: 'hil-1',
  probes: [
    { node: 'ash-2', side: 'outside', acknowledgedWrites: 100, failedWrites: 10, lostWrites: extra.lostWrites ?? 0, writeOutageSeconds: outage },
    { node: 'hil-1', side: 'colocated', acknowledgedWrites: 90, failedWrites: 20, lostWrites: 0, writeOutageSeconds: outage + 1 },
  ], newLeader: 'ash-1', writeOutageSeconds: outage, readOutageSeconds: 0.5, acknowledgedWrites: 100, failedWrites: 10,
  lostWrites: 0, timelineBefore: 1, timelineAfter: 2, oldLeaderRejoined: true, splitBrainSeconds: 0, api: null,
  timeline: { leaderLost: outage - 1, newLeader: outage - 0.5, firstWriteOnNewLeader: outage }, passed: outage <= 20, failures: outage <= 20 ? [] : [`write outage ${outage}s > 20s`], ...extra,
});

describe('failover report', () => {
  it('medians of the outages, writes summed, passed only when every run passed', () => {
    const r = aggregate('kill-leader', [result(17), result(22), result(19, { lostWrites: 1, passed: false, failures: ['1 acknowledged writes lost'] })], 20);
    expect(r).toMatchObject({ writeOutageSeconds: 19, acknowledgedWrites: 300, lostWrites: 1, passed: false, timeline: { newLeader: 18.5 } });
    const text = reportTable(r);
    expect(text).toContain('failover-test kill-leader: FAILED (median of 3 runs)');
    expect(text).toContain('write outage     19s (limit 20s)');
    expect(text).toContain('✖ write outage 22s > 20s');
    expect(text).toContain('✖ 1 acknowledged writes lost');
  });

  it('each probe side reported: the outside one and the one on the faulted node, their writes summed over runs', () => {
    const r = aggregate('partition', [result(17), result(18, { lostWrites: 2, passed: false, failures: ['2 acknowledged writes lost'] })], 20);
    expect(r.probes).toEqual([
      { node: 'ash-2', side: 'outside', acknowledgedWrites: 200, failedWrites: 20, lostWrites: 2, writeOutageSeconds: 17.5 },
      { node: 'hil-1', side: 'colocated', acknowledgedWrites: 180, failedWrites: 40, lostWrites: 0, writeOutageSeconds: 18.5 },
    ]);
    const text = reportTable(r);
    expect(text).toContain('replication      asynchronous');
    expect(text).toContain('writes colocated 180 acknowledged, 40 failed, 0 lost — from hil-1, outage 18.5s');
    expect(reportTable(aggregate('partition', [result(17, { synchronousStandby: 'ash-1' })], 20))).toContain('replication      synchronous (standby ash-1)');
  });

  it('one passing run', () => {
    const r = aggregate('kill-leader', [result(17.3)], 20);
    expect(r.passed).toBe(true);
    expect(reportTable(r).split('\n')[0]).toBe('failover-test kill-leader: PASSED');
  });
});

describe('leader watch', () => {
  const m = (name: string, role: string, state = 'running'): PatroniMember => ({ name, role, state }) as PatroniMember;
  it('times the loss of the old leader and the first sight of a new one; the new name is the latest seen', () => {
    let now = 1000;
    const w = new LeaderWatch(async () => [], 'hil-1', 100, () => now);
    expect(w.observe([m('hil-1', 'leader'), m('ash-1', 'replica', 'streaming')])).toBe(false);
    expect(w.lastSeen).toBe('hil-1 still leader');
    now = 2000;
    expect(w.observe([m('hil-1', 'leader', 'stopping'), m('ash-1', 'replica', 'streaming')])).toBe(false);
    expect(w.lastSeen).toBe('no leader');
    now = 3000;
    expect(w.observe([m('ash-1', 'leader', 'starting')])).toBe(false);
    now = 4000;
    expect(w.observe([m('ash-1', 'leader')])).toBe(true);
    now = 5000;
    w.observe([m('ash-2', 'leader')]);
    expect(w).toMatchObject({ lostAt: 2000, newAt: 4000, newLeader: 'ash-2', lastSeen: 'ash-2 leads' });
  });

  it('polls alongside the fault until a new leader is seen, a failed read retried', async () => {
    const answers: Array<PatroniMember[] | Error> = [[m('hil-1', 'leader')], new Error('timed out'), [m('ash-2', 'leader')], [m('ash-1', 'leader')]];
    let reads = 0;
    const w = new LeaderWatch(async () => {
      const a = answers[reads++]!;
      if (a instanceof Error) throw a;
      return a;
    }, 'hil-1', 5);
    w.start();
    w.start();
    await expect.poll(() => w.newLeader, { timeout: 2000 }).toBe('ash-2');
    await w.stop();
    expect(reads).toBe(3);
  });

  it('stop() ends a watch that never saw a new leader', async () => {
    let reads = 0;
    const w = new LeaderWatch(async () => (reads++, [m('hil-1', 'leader')]), 'hil-1', 5);
    w.start();
    await expect.poll(() => reads, { timeout: 2000 }).toBeGreaterThan(2);
    await w.stop();
    const after = reads;
    await new Promise((r) => setTimeout(r, 30));
    expect(reads).toBe(after);
    expect(w.newAt).toBeUndefined();
  });
});
