import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODES, containerName } from '../lab/config.ts';
import { inNode, sleep, waitFor } from '../lab/run.ts';
import { runCli } from '../helpers/cli.js';
import { LabCluster } from './cluster.ts';

/**
 * Log shipping on the lab: the log agent of every node (the lab's standin-alloy, reading the
 * rendered config.alloy) ships every twincigo container's output to Loki on the monitoring node
 * (standin-loki, reading the rendered loki.yml), labelled node/service/container/stream; a line a
 * container writes shows up in Loki within seconds; an agent restarted does not ship it twice.
 */
const lab = new LabCluster();
const mon = NODES.find((n) => n.roles.includes('monitoring'))!;

beforeAll(() => lab.upAll(), 400_000);
afterAll(() => lab.release());

/** A LogQL query answered by Loki, asked from the monitoring node (Loki is published on its cluster address only). */
async function loki(query: string, limit = 1000): Promise<Array<{ stream: Record<string, string>; values: Array<[string, string]> }>> {
  const url = `http://${mon.ip}:3100/loki/api/v1/query_range?limit=${limit}&query=${encodeURIComponent(query)}`;
  const r = await inNode(containerName(mon.name), ['curl', '-sS', '--fail-with-body', '--max-time', '5', url]);
  return (JSON.parse(r.stdout) as { data: { result: any[] } }).data.result;
}

/** Writes a line to a container's log as its own process would: to the stdout of its PID 1. */
const writeLine = (node: string, container: string, line: string) =>
  inNode(containerName(node), ['docker', 'exec', container, 'sh', '-c', `echo "${line}" > /proc/1/fd/1`]);

describe('logs shipped to Loki', () => {
  it('every node ships its containers, each stream labelled env, node, service, container and stream', async () => {
    const services = (n: (typeof NODES)[number]) => ['etcd', 'patroni', 'haproxy', ...(n.roles.includes('monitoring') ? ['grafana'] : []), ...(n.roles.includes('backend') ? ['backend'] : [])];
    for (const n of NODES) {
      for (const service of services(n)) {
        const streams = await waitFor(`${service}'s log of ${n.name} in Loki`, async () => {
          const r = await loki(`{node="${n.name}", service="${service}"}`);
          return r.length > 0 && r.some((s) => s.values.length > 0) ? r : false;
        }, 60_000, 1000);
        for (const s of streams) expect(s.stream).toMatchObject({ env: 'lab', node: n.name, service, container: `twincigo-${service}-1`, stream: expect.stringMatching(/^std(out|err)$/) });
      }
    }
    // the agent's own output is shipped too: every node's agent is running
    expect((await loki('{service="alloy"}')).map((s) => s.stream.node).sort()).toEqual(expect.arrayContaining(NODES.map((n) => n.name)));
  });

  it('a line a container writes is in Loki within seconds, on its own stream; a restarted agent does not ship it twice', async () => {
    const node = NODES[1]!;
    const marker = `twincigo-e2e-marker-${Date.now()}`;
    const at = performance.now();
    await writeLine(node.name, 'twincigo-redis-1', marker);
    const found = await waitFor('the marker line in Loki', async () => {
      const r = await loki(`{node="${node.name}", service="redis"} |= "${marker}"`);
      return r.length > 0 ? r : false;
    }, 30_000, 200);
    const latencyMs = performance.now() - at;
    process.stdout.write(`[logs] marker shipped to Loki in ${(latencyMs / 1000).toFixed(1)} s\n`);
    expect(found.flatMap((s) => s.values)).toHaveLength(1);
    expect(found[0]!.stream).toMatchObject({ stream: 'stdout', container: 'twincigo-redis-1' });
    expect(latencyMs).toBeLessThan(15_000);
    // the agent restarted reads on from where it stopped: the line stays once, a new one arrives
    await inNode(containerName(node.name), ['docker', 'restart', '-t', '2', 'twincigo-alloy-1']);
    const after = `${marker}-after-restart`;
    await writeLine(node.name, 'twincigo-redis-1', after);
    await waitFor('the line written after the restart', async () => (await loki(`{node="${node.name}"} |= "${after}"`)).length > 0, 30_000, 500);
    await sleep(3000);
    expect((await loki(`{node="${node.name}"} |= "${marker}"`)).flatMap((s) => s.values)).toHaveLength(2);
  });

  it('status counts the agent as a service of every node', async () => {
    const r = await runCli(['status', '--env', 'lab', '--json'], { timeoutMs: 60_000 });
    const s = JSON.parse(r.stdout);
    expect(r.code).toBe(0);
    for (const m of s.members) expect(m.containers.find((c: any) => c.service === 'alloy'), m.name).toMatchObject({ state: 'running' });
  });
});
