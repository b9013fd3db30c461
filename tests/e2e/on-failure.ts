/** When an e2e test fails, print what the nodes were doing: their containers and recent logs. */
import { afterEach } from 'vitest';
import { NODES, containerName } from '../lab/config.ts';
import { docker, inNode } from '../lab/run.ts';

afterEach(async ({ task }) => {
  if (task.result?.state !== 'fail') return;
  const out: string[] = [`\n===== lab logs after failed test: ${task.name} =====`];
  for (const n of NODES) {
    const c = containerName(n.name);
    const state = (await docker(['inspect', '-f', '{{.State.Status}}', c], { reject: false })).stdout.trim();
    out.push(`--- ${n.name} (${c}): ${state || 'absent'}`);
    if (state !== 'running') continue;
    const ps = await inNode(c, ['docker', 'ps', '-a', '--format', '{{.Names}}\t{{.Status}}'], { reject: false });
    out.push(ps.stdout.trim());
    for (const line of ps.stdout.split('\n').filter(Boolean)) {
      const name = line.split('\t')[0]!;
      const logs = await inNode(c, ['docker', 'logs', '--tail', '25', name], { reject: false });
      out.push(`  [${name}]`, ...`${logs.stdout}${logs.stderr}`.trim().split('\n').map((l) => `    ${l}`));
    }
  }
  process.stderr.write(`${out.join('\n')}\n`);
});
