import type { NodeConfig } from '../../config/model.js';
import type { Phase } from '../../engine/types.js';
import { upload } from '../../ssh/upload.js';
import { bundleOf, noteChange, type BootstrapRun } from '../bootstrap-run.js';
import { conn, type Ctx } from '../steps.js';

/** 3. Each node's rendered bundle, only what changed. */
export function uploadPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  return [{
    title: 'Upload',
    steps: [{
      title: 'rendered bundle',
      timeoutMs: 120_000,
      run: async ({ node }: Ctx) => {
        const b = bundleOf(run, node);
        const res = await upload(await conn(run, node), b.files.map((f) => ({ remotePath: `${run.env.baseDir}/${f.path}`, content: f.content, mode: f.mode })));
        const changed = res.filter((r) => r.action !== 'unchanged');
        for (const r of changed) noteChange(run, node.name, { kind: 'file', action: r.action as 'uploaded' | 'mode-fixed', path: r.remotePath });
        return changed.length === 0 ? `${res.length} files unchanged` : `${changed.length} of ${res.length} files written`;
      },
    }],
  }];
}
