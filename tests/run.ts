/**
 * `npm test`: the dev e2e suite in one vitest run and, at the same time, the prod e2e suite — on its
 * own three lab nodes — then the unit tests in a second one (most of an e2e test is waiting on a
 * cluster: two labs share the machine's cores well). The lab is brought up once before both and
 * torn down after them when this run brought it up; nothing may be left behind.
 * `npm test -- <vitest arguments>` runs one vitest with them instead (e.g. a single file).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { labDown, labStatus, labUp, readState } from './lab/lab.ts';
import { leftovers } from './lab/nodes.ts';

const VITEST = ['node_modules/vitest/vitest.mjs', 'run', '--config', 'tests/vitest.config.ts'];
const log = (line: string) => process.stderr.write(`[lab] ${line}\n`);

/** One vitest process; each output line prefixed with `tag`. Resolves with its exit code. */
function vitest(args: string[], tag: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...VITEST, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
      createInterface({ input: from, crlfDelay: Infinity }).on('line', (l) => to.write(`${tag}${l}\n`));
    }
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const extra = process.argv.slice(2);
if (extra.length > 0) {
  process.exitCode = await vitest(extra, '');
} else {
  const created = !(await labStatus().catch(() => undefined))?.up;
  if (created) log('bringing the lab up for this run: dev and prod nodes (npm run lab:up -- --prod beforehand keeps it between runs)');
  if (created || !readState()?.prod) await labUp(log, { prod: true });
  const started = performance.now();
  // the unit tests after the prod suite, which ends minutes before the dev one: not beside the two
  // labs' first bootstraps, when the machine's cores are busiest and the dev suite is the long pole
  const afterProd = async (): Promise<[number, number]> => {
    const prod = await vitest(['--project', 'e2e-prod'], 'prod│ ');
    return [prod, await vitest(['--project', 'unit'], 'unit│ ')];
  };
  const [dev, [prod, unit]] = await Promise.all([vitest(['--project', 'e2e'], ''), afterProd()]);
  log(`e2e exit ${dev}, e2e-prod exit ${prod}, unit exit ${unit}, all in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (created && !process.env.TWINCIGO_LAB_KEEP) {
    await labDown(log);
    const left = await leftovers();
    const all = [...left.containers, ...left.networks, ...left.volumes];
    if (all.length > 0) {
      log(`lab:down left behind: ${all.join(', ')}`);
      process.exitCode = 1;
    } else log('lab removed: no container, network or volume left');
  }
  process.exitCode ||= dev || prod || unit;
}
