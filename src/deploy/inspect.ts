import { PROJECT } from '../remote/compose.js';
import { root, type Command } from '../remote/shell.js';
import { parseSums } from './release.js';

/**
 * What a node runs, against a release, in one read-only command. The release is a staged one
 * (releases/<id>, a rollback's target or a deploy's upload) or, before anything is uploaded, the
 * live tree checked against the rendered MANIFEST given on stdin — a deploy uploads only to nodes
 * whose files differ. It reports: the current release, the
 * sha256 of every live file either release names, compose's own config hash of every service as
 * the staged files define it (`compose config --hash`, computed with the live project directory,
 * so it equals the label compose puts on a container created from those files), and the hash and
 * state of every container of the project. A service whose hash differs is one `compose up`
 * recreates; everything else is left running.
 */
const INSPECT = [
  'base=$1; id=$2; shift 2',
  'cd "$base" || exit 3',
  'if [ -n "$id" ]; then rel="releases/$id"; [ -f "$rel/MANIFEST" ] || exit 4; target=$(cat "$rel/MANIFEST"); else rel=.; target=$(cat); fi',
  'echo "@@current $(readlink current 2>/dev/null)"',
  'echo "@@target"',
  'printf "%s\\n" "$target"',
  'echo "@@live"',
  '{ printf "%s\\n" "$target" | cut -c67-; [ -f current/MANIFEST ] && cut -c67- current/MANIFEST; } | LC_ALL=C sort -u | while IFS= read -r p; do [ -n "$p" ] && [ -f "$p" ] && sha256sum -- "$p"; done',
  'echo "@@patroni"',
  '[ -f "$rel/config/patroni/patroni.yml" ] && base64 -w0 < "$rel/config/patroni/patroni.yml"; echo',
  'echo "@@hash"',
  'n=$#; for f in "$@"; do set -- "$@" -f "$rel/$f"; done; shift $n',
  `docker compose -p ${PROJECT} --project-directory "$base" --env-file "$rel/.env" "$@" config --hash '*' 2>&1 || echo "@@hash-failed"`,
  'echo "@@running"',
  `docker ps -a --filter label=com.docker.compose.project=${PROJECT} --format '{{.Label "com.docker.compose.service"}} {{.Label "com.docker.compose.config-hash"}} {{.State}}'`,
].join('\n');

/** id: a release on the node; null: the live tree, against the MANIFEST sent on stdin. */
export function inspectCommand(base: string, id: string | null, composeFiles: readonly string[]): Command {
  return root('sh', '-c', INSPECT, 'sh', base, id ?? '', ...composeFiles);
}

export interface NodeInspection {
  /** The active release id, or null (a node bootstrapped before releases). */
  current: string | null;
  /** sha256 of each file of the release to activate (its MANIFEST). */
  target: Map<string, string>;
  /** The release's patroni.yml (its bootstrap.dcs is what Patroni's cluster config should be). */
  patroniYml?: string;
  /** sha256 of each live file named by the staged or the current release. */
  live: Map<string, string>;
  /** service → config hash of the staged files. */
  wanted: Map<string, string>;
  /** service → hash and state of its container. */
  running: Map<string, { hash: string; state: string }>;
  /** compose could not read the staged files (an unset required variable, bad YAML). */
  composeError?: string;
}

export function parseInspection(stdout: string): NodeInspection {
  const sections = new Map<string, string>();
  let name = '';
  let current: string | null = null;
  for (const line of stdout.split('\n')) {
    const m = /^@@(\S+)(?: (.*))?$/.exec(line);
    if (m && m[1] === 'current') {
      current = m[2]?.trim().replace(/^releases\//, '') || null;
      continue;
    }
    if (m && m[1] !== 'hash-failed') {
      name = m[1]!;
      sections.set(name, '');
      continue;
    }
    if (m) {
      sections.set('hash-failed', sections.get('hash') ?? '');
      continue;
    }
    sections.set(name, `${sections.get(name) ?? ''}${line}\n`);
  }
  const wanted = new Map<string, string>();
  const failed = sections.get('hash-failed');
  if (failed === undefined) {
    for (const line of (sections.get('hash') ?? '').split('\n')) {
      const m = /^(\S+) ([0-9a-f]{64})$/.exec(line.trim());
      if (m) wanted.set(m[1]!, m[2]!);
    }
  }
  const running = new Map<string, { hash: string; state: string }>();
  for (const line of (sections.get('running') ?? '').split('\n')) {
    const [service, hash, state] = line.trim().split(/\s+/);
    if (service && hash && state) running.set(service, { hash, state });
  }
  return {
    current,
    target: parseSums(sections.get('target') ?? ''),
    ...((sections.get('patroni') ?? '').trim() ? { patroniYml: Buffer.from(sections.get('patroni')!.trim(), 'base64').toString('utf8') } : {}),
    live: parseSums(sections.get('live') ?? ''),
    wanted,
    running,
    ...(failed !== undefined ? { composeError: failed.trim().split('\n').slice(-3).join('; ') } : {}),
  };
}

/** The live text of some files (for the dry run's diff), framed so any content survives. */
export function readFilesCommand(base: string, paths: readonly string[]): Command {
  return root('sh', '-c', 'cd "$1" || exit 3; shift; for p in "$@"; do echo "@@file $p"; [ -f "$p" ] && base64 -w0 < "$p"; echo; done', 'sh', base, ...paths);
}

export function parseFiles(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^@@file (.+)$/.exec(lines[i]!);
    if (m) out.set(m[1]!, Buffer.from(lines[i + 1] ?? '', 'base64').toString('utf8'));
  }
  return out;
}
