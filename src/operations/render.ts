import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { EXIT, UsageError } from '../errors.js';
import { renderGated } from './gate.js';
import { requireEnvFile, type Session } from '../session/session.js';

export interface RenderFlags {
  out?: string;
  etcdState?: 'new' | 'existing';
}

/**
 * `twincigo render`: exactly what bootstrap/deploy would upload, per node. With --out the files are
 * written (secret-bearing ones 0600) — all or nothing: rendered in memory, written to a temporary
 * folder, then moved into place. Without --out they are printed, secrets redacted.
 */
export async function render(ctx: Session, flags: RenderFlags): Promise<number> {
  requireEnvFile(ctx);
  const bundles = renderGated(ctx.config.env, ctx.config.nodes, ctx.values, { etcdState: flags.etcdState });
  const summary = bundles.map((b) => ({
    node: b.node,
    composeFiles: b.composeFiles,
    files: b.files.map((f) => ({ path: f.path, mode: f.mode.toString(8), bytes: Buffer.byteLength(f.content), secret: f.secret })),
  }));
  if (flags.out) {
    const out = resolve(flags.out);
    refuseTrackedFolder(out);
    let tmp: string;
    try {
      mkdirSync(dirname(out), { recursive: true });
      tmp = mkdtempSync(join(dirname(out), '.twincigo-render-'));
    } catch (err) {
      throw outError(out, err);
    }
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
    } catch (err) {
      throw outError(out, err);
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

/** A filesystem error of --out as one line (exit 2), not a raw EEXIST/ENOENT. */
function outError(out: string, err: unknown): UsageError {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    EEXIST: 'a file is in the way (--out and the folders above it must be folders)',
    ENOTDIR: 'a file is in the way (--out and the folders above it must be folders)',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device',
  };
  return new UsageError(`--out ${out}: ${why[e.code ?? ''] ?? e.message} — nothing was written`);
}

/**
 * The files hold the environment's secrets: inside a git work tree --out must be a folder git
 * ignores, or the next `git add -A` commits them.
 */
function refuseTrackedFolder(out: string): void {
  let probe = out;
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
  const top = spawnSync('git', ['-C', probe, 'rev-parse', '--show-toplevel'], { encoding: 'utf8' });
  if (top.status !== 0) return; // not in a work tree (or no git): nothing to protect
  const root = top.stdout.trim();
  const ignored = spawnSync('git', ['-C', root, 'check-ignore', '-q', '--no-index', `${relative(root, out) || '.'}/`], { encoding: 'utf8' });
  if (ignored.status === 0) return;
  throw new UsageError(`--out ${out} is inside the git work tree ${root} and not ignored: the rendered files hold the environment's secrets`, [
    `add it to ${join(root, '.gitignore')} (e.g. /${relative(root, out)}/), or write outside the repository`,
  ]);
}
