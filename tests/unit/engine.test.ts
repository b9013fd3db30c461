import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { assertSucceeded, describeFailure, runPlan } from '../../src/engine/run.js';
import type { Plan } from '../../src/engine/types.js';
import { InterruptedError, TwincigoError } from '../../src/errors.js';

interface N {
  name: string;
  leader?: boolean;
}
const nodes: N[] = [{ name: 'hil-1', leader: true }, { name: 'ash-1' }, { name: 'ash-2' }];
const opts = { nodes, mode: 'silent' as const };

describe('runPlan', () => {
  it('runs phases in order, each node its steps in order, nodes in parallel', async () => {
    const events: string[] = [];
    const plan: Plan<N> = {
      title: 'test',
      phases: [
        {
          title: 'one',
          steps: [
            { title: 'a', run: async ({ node }) => void (events.push(`a:${node.name}:start`), await sleep(50), events.push(`a:${node.name}:end`)) },
            { title: 'b', run: async ({ node }) => void events.push(`b:${node.name}`) },
          ],
          then: [{ title: 'gate', run: async () => void events.push('gate') }],
        },
        { title: 'two', steps: [{ title: 'c', when: (n) => Boolean(n.leader), run: async ({ node }) => void events.push(`c:${node.name}`) }] },
      ],
    };
    const res = await runPlan(plan, opts);
    expect(res.ok).toBe(true);
    // all three "a" started before any ended: parallel across nodes
    expect(events.slice(0, 3).every((e) => e.endsWith(':start'))).toBe(true);
    for (const n of nodes) expect(events.indexOf(`a:${n.name}:end`)).toBeLessThan(events.indexOf(`b:${n.name}`));
    expect(events.indexOf('gate')).toBeGreaterThan(Math.max(...nodes.map((n) => events.indexOf(`b:${n.name}`))));
    expect(events.at(-1)).toBe('c:hil-1');
    expect(events.filter((e) => e.startsWith('c:'))).toEqual(['c:hil-1']);
    expect(res.steps.map((s) => `${s.phase}/${s.step}/${s.node}/${s.status}`)).toContain('one/gate/null/ok');
  });

  it('serial phases run one node at a time', async () => {
    let active = 0;
    let most = 0;
    const res = await runPlan(
      { title: 't', phases: [{ title: 'rolling', serial: true, steps: [{ title: 's', run: async () => void (active++, (most = Math.max(most, active)), await sleep(20), active--) }] }] },
      opts,
    );
    expect(res.ok).toBe(true);
    expect(most).toBe(1);
  });

  it('aggregates failures per node and does not start later phases', async () => {
    let laterRan = false;
    const res = await runPlan(
      {
        title: 'bootstrap',
        phases: [
          {
            title: 'preflight',
            steps: [
              {
                title: 'disk',
                run: async ({ node }) => {
                  if (node.name === 'ash-2') throw new Error('only 2 GB free, 10 GB needed');
                },
              },
            ],
          },
          { title: 'etcd', steps: [{ title: 'start', run: async () => void (laterRan = true) }] },
        ],
      },
      opts,
    );
    expect(res.ok).toBe(false);
    expect(laterRan).toBe(false);
    expect(res.failedPhase).toBe('preflight');
    expect(res.phasesNotStarted).toEqual(['etcd']);
    expect(res.error).toBe('preflight failed on 1 of 3 nodes — ash-2: only 2 GB free, 10 GB needed');
    expect(() => assertSucceeded(res)).toThrow(TwincigoError);
  });

  it("a failed step's hints (what to do about it) reach the run's error, once each", async () => {
    const hint = 'give this cluster another place';
    const res = await runPlan({ title: 'bootstrap', phases: [{ title: 'backups', steps: [{ title: 'stanza', run: async () => {
      throw new TwincigoError('the repository holds the backups of another cluster', undefined, [hint]);
    } }] }] }, opts);
    const err = (() => {
      try {
        assertSucceeded(res);
      } catch (e) {
        return e as TwincigoError;
      }
    })();
    expect(err?.message).toMatch(/^backups failed on 3 of 3 nodes — /);
    expect(err?.hints).toEqual([hint]);
  });

  it('skips a step whose skip condition gives a reason', async () => {
    let ran = false;
    const res = await runPlan(
      { title: 't', phases: [{ title: 'p', steps: [{ title: 'init', skip: () => 'already initialised', run: async () => void (ran = true) }] }] },
      { ...opts, nodes: [nodes[0]!] },
    );
    expect(ran).toBe(false);
    expect(res.steps[0]).toMatchObject({ status: 'skipped', message: 'already initialised', attempts: 0 });
  });

  it('retries a failing step, then succeeds', async () => {
    let calls = 0;
    const res = await runPlan(
      {
        title: 't',
        phases: [{ title: 'p', steps: [{ title: 'flaky', retries: 2, retryDelayMs: 5, run: async () => void (++calls < 3 && (() => { throw new Error('not yet'); })()) }] }],
      },
      { ...opts, nodes: [nodes[0]!] },
    );
    expect(res.ok).toBe(true);
    expect(calls).toBe(3);
    expect(res.steps[0]).toMatchObject({ status: 'ok', attempts: 3 });
  });

  it('times out a step that ignores its signal and names it', async () => {
    const started = Date.now();
    const res = await runPlan(
      { title: 't', phases: [{ title: 'etcd', steps: [{ title: 'wait for quorum', timeoutMs: 100, run: () => new Promise(() => undefined) }] }] },
      { ...opts, nodes: [nodes[0]!] },
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.ok).toBe(false);
    expect(res.error).toBe('etcd failed on 1 of 1 node — hil-1: wait for quorum: timed out after 0.1s');
  });

  it('the step signal is aborted at the timeout, so waits can stop', async () => {
    let aborted = false;
    await runPlan(
      {
        title: 't',
        phases: [{ title: 'p', steps: [{ title: 's', timeoutMs: 50, run: ({ signal }) => new Promise((_, rej) => signal.addEventListener('abort', () => ((aborted = true), rej(new Error('x'))))) }] }],
      },
      { ...opts, nodes: [nodes[0]!] },
    );
    expect(aborted).toBe(true);
  });

  it('on Ctrl-C stops running steps, starts no later phase, runs cleanups last-first and says what was done', async () => {
    const ctl = new AbortController();
    const order: string[] = [];
    const plan: Plan<N> = {
      title: 'failover-test',
      phases: [
        {
          title: 'inject',
          steps: [
            {
              title: 'partition',
              run: async ({ node, onCleanup }) => {
                onCleanup('heal partition', async () => void order.push(`heal:${node.name}`));
              },
            },
          ],
        },
        {
          title: 'measure',
          then: [
            {
              title: 'probe',
              run: async ({ signal, onCleanup }) => {
                onCleanup('stop probe', async () => void order.push('stop-probe'));
                setTimeout(() => ctl.abort(), 20);
                await sleep(10_000, undefined, { signal });
              },
            },
          ],
        },
        { title: 'report', steps: [{ title: 'r', run: async () => void order.push('report') }] },
      ],
    };
    const res = await runPlan(plan, { ...opts, signal: ctl.signal });
    expect(res.interrupted).toBe(true);
    expect(res.phasesNotStarted).toEqual(['report']);
    expect(order[0]).toBe('stop-probe');
    expect(order.slice(1).sort()).toEqual(['heal:ash-1', 'heal:ash-2', 'heal:hil-1']);
    expect(res.cleanup.every((c) => c.status === 'ok')).toBe(true);
    expect(() => assertSucceeded(res)).toThrow(InterruptedError);
  });
});

describe('describeFailure', () => {
  it('names every failed node', () => {
    const rec = (node: string | null, message: string) => ({ phase: 'p', step: 's', node, status: 'failed' as const, message, attempts: 1, durationMs: 1 });
    expect(describeFailure('upload', [rec('ash-1', 'disk full'), rec('ash-2', 'refused')], 3)).toBe('upload failed on 2 of 3 nodes — ash-1: disk full; ash-2: refused');
    expect(describeFailure('gate', [rec(null, 'no leader')], 3)).toBe('gate failed — cluster: no leader');
    expect(describeFailure('ssh', [rec('ash-1', 'ash-1: connection refused')], 3)).toBe('ssh failed on 1 of 3 nodes — ash-1: connection refused');
  });
});
