import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EXIT } from '../../errors.js';
import { renderEnvironment } from '../../stack/bundle.js';
import { createContext, requireEnvFile, type GlobalOptions } from '../context.js';

export interface RenderFlags {
  out?: string;
  etcdState?: 'new' | 'existing';
}

/**
 * `twincigo render`: exactly what bootstrap/deploy would upload, per node. With --out the files are
 * written (secret-bearing ones 0600) — all or nothing: rendered in memory, written to a temporary
 * folder, then moved into place. Without --out they are printed, secrets redacted.
 */
export async function render(g: GlobalOptions, flags: RenderFlags): Promise<number> {
  const ctx = await createContext(g);
  requireEnvFile(ctx);
  const bundles = renderEnvironment(ctx.config.env, ctx.config.nodes, ctx.env, { etcdState: flags.etcdState });
  const summary = bundles.map((b) => ({
    node: b.node,
    composeFiles: b.composeFiles,
    files: b.files.map((f) => ({ path: f.path, mode: f.mode.toString(8), bytes: Buffer.byteLength(f.content), secret: f.secret })),
  }));
  if (flags.out) {
    const out = resolve(flags.out);
    mkdirSync(dirname(out), { recursive: true });
    const tmp = mkdtempSync(join(dirname(out), '.twincigo-render-'));
    try {
      for (const b of bundles) {
        for (const f of b.files) {
          const path = join(tmp, b.node, f.path);
          mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
          writeFileSync(path, f.content, { mode: f.mode });
          chmodSync(path, f.mode);
        }
      }
      mkdirSync(out, { recursive: true, mode: 0o700 });
      for (const b of bundles) {
        rmSync(join(out, b.node), { recursive: true, force: true });
        renameSync(join(tmp, b.node), join(out, b.node));
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    ctx.ui.json({ environment: ctx.config.env.name, out, nodes: summary });
    ctx.ui.print(bundles.map((b) => `${b.node}: ${b.files.length} files → ${join(out, b.node)}`).join('\n'));
    return EXIT.ok;
  }
  ctx.ui.json({ environment: ctx.config.env.name, nodes: bundles.map((b) => ({ ...summary.find((s) => s.node === b.node), content: Object.fromEntries(b.files.map((f) => [f.path, f.content])) })) });
  for (const b of bundles) {
    ctx.ui.print(`### ${b.node} — compose: ${b.composeFiles.join(' ')}`);
    for (const f of b.files) ctx.ui.print(`--- ${f.path} (${f.mode.toString(8)}${f.secret ? ', secret values redacted' : ''})\n${f.content}`);
  }
  return EXIT.ok;
}
