import type { NodeConfig } from '../../config/model.js';
import type { Phase } from '../../engine/types.js';
import { TwincigoError } from '../../errors.js';
import { bundleOf, isConverged, noteChange, type BootstrapRun } from '../bootstrap-run.js';
import { bundleImages, fetchCommands, missingImagesCommand } from '../images.js';
import { CONVERGED, conn, files, type Ctx } from '../steps.js';

/** 4. Every image a node runs: pulled (or built), or with --ship-images sent over SSH. */
export function imagesPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  const ship = Boolean(run.options.shipImages);
  const fetch = async ({ node, signal, log }: Ctx) => {
    const c = await conn(run, node);
    const images = bundleImages(bundleOf(run, node));
    // one image may serve several services (Patroni's runs pgBackRest's server too): counted, checked and shipped once
    const names = [...new Set(images.map((i) => i.image))];
    const missingNow = async () => (await c.run(missingImagesCommand(names))).stdout.split('\n').filter(Boolean);
    const missing = await missingNow();
    if (missing.length === 0) return `all ${names.length} present`;
    if (ship) {
      for (const image of missing) {
        log(`shipping ${image}`);
        await run.shipImage(c, image, signal);
      }
    } else {
      for (const cmd of fetchCommands(run.env.baseDir, files(run, node), images.filter((i) => missing.includes(i.image)))) {
        log(`fetching ${missing.length} image(s)`);
        await c.run(cmd, { timeoutMs: 1_500_000, signal });
      }
    }
    const still = await missingNow();
    if (still.length > 0) throw new TwincigoError(`images still missing: ${still.join(', ')}`);
    noteChange(run, node.name, { kind: 'images', count: missing.length, how: ship ? 'shipped' : 'fetched' });
    return `${missing.length} ${ship ? 'shipped' : 'fetched'}, ${names.length - missing.length} present`;
  };
  return [{
    title: ship ? 'Images (shipped over SSH)' : 'Images',
    steps: [{ title: 'every image the node runs', timeoutMs: 1_800_000, skip: ({ node }: Ctx) => (isConverged(run, node) ? CONVERGED : false), run: fetch }],
  }];
}
