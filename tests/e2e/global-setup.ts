/**
 * One lab per test run: reused when it is already up (a developer's `npm run lab:up`), otherwise
 * brought up here and torn down at the end — and the teardown is checked: no lab container,
 * network or volume may remain. A lab that cannot start fails the run; nothing is skipped.
 */
import { labDown, labStatus, labUp, readState } from '../lab/lab.ts';
import { leftovers } from '../lab/nodes.ts';

const log = (line: string) => process.stderr.write(`[lab] ${line}\n`);

export default async function setup(): Promise<() => Promise<void>> {
  const before = await labStatus().catch(() => undefined);
  const created = !before?.up;
  if (created) {
    log('bringing the lab up for this run (npm run lab:up -- --prod beforehand keeps it between runs)');
    await labUp(log, { prod: true });
  } else if (!readState()?.prod) {
    // a developer's lab without the prod profile's images: add them (the nodes keep running)
    log('adding the prod profile (lab-prod) to the running lab');
    await labUp(log, { prod: true });
  }
  const after = await labStatus();
  if (!after.up) throw new Error(`the lab is not healthy: ${JSON.stringify(after.nodes)}`);
  return async () => {
    if (!created || process.env.TWINCIGO_LAB_KEEP) return;
    await labDown(log);
    const left = await leftovers();
    const all = [...left.containers, ...left.networks, ...left.volumes];
    if (all.length > 0) throw new Error(`lab:down left behind: ${all.join(', ')}`);
    log('lab removed: no container, network or volume left');
  };
}
