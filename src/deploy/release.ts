import { createHash } from 'node:crypto';
import { root, type Command } from '../remote/shell.js';
import type { UploadFile } from '../ssh/upload.js';
import type { BundleFile } from '../stack/bundle.js';

/**
 * Releases on a node (as Kamal's): every deploy uploads the rendered bundle into
 * `<base>/releases/<id>/` with a MANIFEST (sha256 per file, `sha256sum` format) and RELEASE.json
 * (who, when, what); `<base>/current` points to the active one. The stack runs from the live tree
 * in the base dir — bind mounts keep their paths, so config files reload in place — and
 * activating a release copies its files there. The last KEEP releases are kept.
 */
export const KEEP_RELEASES = 5;
export const MANIFEST = 'MANIFEST';
export const RELEASE_META = 'RELEASE.json';

export const releasesDir = (base: string) => `${base}/releases`;
export const releaseDir = (base: string, id: string) => `${releasesDir(base)}/${id}`;

/** Sortable, the same on every node of one deploy: 20261126-004512 (UTC). */
export function releaseId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export interface ReleaseMeta {
  id: string;
  createdAt: string;
  by: string;
  command: string;
}

export const sha256 = (content: string) => createHash('sha256').update(content).digest('hex');

export function manifestText(files: readonly { path: string; content: string }[]): string {
  return `${[...files].sort((a, b) => a.path.localeCompare(b.path)).map((f) => `${sha256(f.content)}  ${f.path}`).join('\n')}\n`;
}

/** path → sha256, from MANIFEST or `sha256sum` output. */
export function parseSums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) out.set(m[2]!.replace(/^\.\//, ''), m[1]!);
  }
  return out;
}

/** The files of a new release: the bundle under releases/<id>/ plus its manifest and meta. */
export function stageFiles(base: string, files: readonly BundleFile[], meta: ReleaseMeta): UploadFile[] {
  const dir = releaseDir(base, meta.id);
  return [
    ...files.map((f) => ({ remotePath: `${dir}/${f.path}`, content: f.content, mode: f.mode })),
    { remotePath: `${dir}/${MANIFEST}`, content: manifestText(files), mode: 0o644 },
    { remotePath: `${dir}/${RELEASE_META}`, content: `${JSON.stringify(meta)}\n`, mode: 0o644 },
  ];
}

/**
 * A node deployed before releases existed (bootstrap wrote the live tree): its live files become
 * a release, so the first deploy can be rolled back too. Idempotent; current is set only when
 * missing.
 */
const SNAPSHOT = [
  'set -e',
  'base=$1; id=$2; shift 2',
  'rel="$base/releases/$id"',
  'cd "$base"',
  '[ -e current ] && exit 0',
  'mkdir -p "$rel"',
  'for f in "$@"; do if [ -f "$f" ]; then cp -a --parents -- "$f" "$rel/"; fi; done',
  '(cd "$rel" && find . -type f ! -name MANIFEST ! -name RELEASE.json -printf "%P\\n" | LC_ALL=C sort | xargs -r -d "\\n" sha256sum) > "$rel/MANIFEST"',
  'printf "%s\\n" "$RELEASE_META" > "$rel/RELEASE.json"',
  'ln -sfn "releases/$id" current',
].join('\n');

export function snapshotCommand(base: string, meta: ReleaseMeta, paths: readonly string[]): Command {
  return root('env', `RELEASE_META=${JSON.stringify(meta)}`, 'sh', '-c', SNAPSHOT, 'sh', base, meta.id, ...paths);
}

/**
 * Makes release <id> the live one: each of its files replaces the live copy atomically (copy, then
 * rename), files of the previous release that it does not have are removed, current points to it.
 * Prints the paths whose content changed.
 */
const ACTIVATE = [
  'set -e',
  'base=$1; id=$2',
  'rel="$base/releases/$id"',
  'cd "$base"',
  '[ -f "$rel/MANIFEST" ] || { echo "release $id not found on this node" >&2; exit 3; }',
  'old=""',
  'if [ -f current/MANIFEST ]; then old=$(readlink current); fi',
  'while read -r sum path; do',
  '  if [ -f "$path" ] && [ "$(sha256sum < "$path" | cut -d" " -f1)" = "$sum" ]; then continue; fi',
  '  mkdir -p "$(dirname -- "$path")"',
  '  cp -a -- "$rel/$path" "$path.twincigo-new"',
  '  mv -f -- "$path.twincigo-new" "$path"',
  '  echo "changed $path"',
  'done < "$rel/MANIFEST"',
  'if [ -n "$old" ] && [ "$old" != "releases/$id" ]; then',
  '  while read -r sum path; do',
  '    if ! cut -c67- "$rel/MANIFEST" | grep -q -F -x -- "$path"; then',
  '      rm -f -- "$path"; echo "removed $path"',
  '    fi',
  '  done < "$old/MANIFEST"',
  'fi',
  'ln -sfn "releases/$id" current.twincigo-new && mv -T -f current.twincigo-new current',
].join('\n');

export function activateCommand(base: string, id: string): Command {
  return root('sh', '-c', ACTIVATE, 'sh', base, id);
}

/** Keeps the newest `keep` releases and the current one; removes the others. */
const PRUNE = [
  'base=$1; keep=$2',
  'cd "$base/releases" 2>/dev/null || exit 0',
  'cur=$(basename "$(readlink ../current 2>/dev/null)" 2>/dev/null)',
  'ls -1 | LC_ALL=C sort -r | tail -n +$((keep + 1)) | while read -r r; do [ "$r" = "$cur" ] || { rm -rf -- "$r"; echo "pruned $r"; }; done',
].join('\n');

export function pruneCommand(base: string, keep = KEEP_RELEASES): Command {
  return root('sh', '-c', PRUNE, 'sh', base, String(keep));
}

/** Removes a staged release that was never activated (dry run, or a deploy stopped before it). */
export function discardCommand(base: string, id: string): Command {
  return root('sh', '-c', 'cd "$1" && [ "$(readlink current 2>/dev/null)" != "releases/$2" ] && rm -rf -- "releases/$2"; exit 0', 'sh', base, id);
}

/** Each release: `@@ <id>` then its RELEASE.json; `@@current <target>` last. */
const LIST = [
  'cd "$1/releases" 2>/dev/null || exit 0',
  'for r in $(ls -1 | LC_ALL=C sort); do echo "@@ $r"; cat "$r/RELEASE.json" 2>/dev/null; echo; done',
  'echo "@@current $(readlink ../current 2>/dev/null)"',
].join('\n');

export function listCommand(base: string): Command {
  return root('sh', '-c', LIST, 'sh', base);
}

export interface ReleaseEntry {
  id: string;
  meta: ReleaseMeta | null;
  current: boolean;
}

export function parseList(stdout: string): ReleaseEntry[] {
  const out: ReleaseEntry[] = [];
  let current = '';
  for (const block of stdout.split(/^@@/m).filter((b) => b.trim())) {
    const [head, ...rest] = block.split('\n');
    if (head!.startsWith('current')) {
      current = head!.slice('current'.length).trim().replace(/^releases\//, '');
      continue;
    }
    let meta: ReleaseMeta | null = null;
    try {
      meta = JSON.parse(rest.join('\n').trim()) as ReleaseMeta;
    } catch {
      meta = null;
    }
    out.push({ id: head!.trim(), meta, current: false });
  }
  for (const r of out) r.current = r.id === current;
  return out;
}
