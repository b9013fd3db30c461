/**
 * Offline images: a Debian base from debootstrap + docker import, and every other lab image built
 * FROM it with apt. Each is tagged with a hash of its inputs (its folder and its parent's tag), so
 * an unchanged image is never rebuilt. Service images are pushed to the lab registry.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { docker, sh, type Log } from './run.ts';
import { IMAGES_DIR, NODE_REGISTRY, PREFIX, REGISTRY, REPO } from './config.ts';

export const SUITE = 'trixie';
const BASE_PACKAGES = ['ca-certificates'];

/** The Debian mirror apt on this machine already uses (never a hard-coded host). */
export function debianMirror(): string {
  const dirs = ['/etc/apt/sources.list.d', '/etc/apt'];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      if (!/\.(sources|list)$/.test(f)) continue;
      const text = readFileSync(join(dir, f), 'utf8');
      const m = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s/m.exec(text);
      if (m) return m[1]!;
    }
  }
  throw new Error('cannot find the Debian mirror in /etc/apt/sources.list(.d)');
}

function hashDir(dir: string, h: ReturnType<typeof createHash>): void {
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) hashDir(p, h);
    else h.update(f).update(readFileSync(p));
  }
}
const short = (h: ReturnType<typeof createHash>) => h.digest('hex').slice(0, 12);

async function exists(ref: string): Promise<boolean> {
  return (await docker(['image', 'inspect', ref], { reject: false })).exitCode === 0;
}

/** debootstrap (minbase) → docker import → apt lists refreshed once for every image built on it. */
export async function baseImage(log: Log): Promise<string> {
  const mirror = debianMirror();
  const tag = `${PREFIX}/base:${short(createHash('sha256').update(`${SUITE} ${mirror} ${BASE_PACKAGES.join(',')} v1`))}`;
  if (await exists(tag)) return tag;
  const root = mkdtempSync('/var/tmp/twincigo-lab-rootfs-');
  try {
    log(`debootstrap ${SUITE} from ${mirror} (about a minute)`);
    await sh('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, SUITE, root, mirror]);
    rmSync(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
    log('docker import');
    const raw = `${tag}-raw`;
    await sh('sh', ['-c', `tar -C '${root}' -c . | docker import - '${raw}'`]);
    const ctx = mkdtempSync('/var/tmp/twincigo-lab-base-');
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        `FROM ${raw}`,
        'RUN echo \'Acquire::Retries "5";\' > /etc/apt/apt.conf.d/80-retries \\',
        ' && echo \'APT::Install-Recommends "false";\' > /etc/apt/apt.conf.d/81-no-recommends \\',
        ' && apt-get update',
        'ENV LANG=C.UTF-8',
        '',
      ].join('\n'),
    );
    await docker(['build', '-q', '-t', tag, ctx]);
    await docker(['rmi', raw], { reject: false });
    rmSync(ctx, { recursive: true, force: true });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return tag;
}

/**
 * Files of the product an image uses as they are (include.txt in the image's folder: one repo path
 * per line) — the lab runs the same script the real image does, not a copy of it.
 */
function included(dir: string): string[] {
  const list = join(dir, 'include.txt');
  return existsSync(list) ? readFileSync(list, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : [];
}

/** Builds tests/lab/images/<name> FROM parent unless an image with the same inputs exists. */
export async function buildImage(name: string, parent: string, log: Log): Promise<string> {
  const dir = join(IMAGES_DIR, name);
  const h = createHash('sha256').update(parent);
  hashDir(dir, h);
  const extra = included(dir);
  for (const f of extra) h.update(f).update(readFileSync(join(REPO, f)));
  const tag = `${PREFIX}/${name}:${short(h)}`;
  if (await exists(tag)) return tag;
  log(`building ${name}`);
  const npm = existsSync(join(dir, 'package.json'));
  if (!npm && extra.length === 0) {
    await docker(['build', '-q', '--build-arg', `BASE=${parent}`, '-t', tag, dir]);
    return tag;
  }
  // a context of its own: the folder, the included files (flat, by name), and for a Node.js
  // program from npm its locked packages
  const ctx = mkdtempSync('/var/tmp/twincigo-lab-ctx-');
  try {
    cpSync(dir, ctx, { recursive: true });
    for (const f of extra) cpSync(join(REPO, f), join(ctx, basename(f)));
    if (npm) await sh('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: ctx });
    await docker(['build', '-q', '--build-arg', `BASE=${parent}`, '-t', tag, ctx]);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return tag;
}

/** A stand-in variant: the stand-in image with the service's name, port and health path baked in. */
export interface StandIn {
  service: string;
  port: number;
  health: string;
}
export async function standInImage(s: StandIn, standin: string): Promise<string> {
  const h = createHash('sha256').update(`${standin} ${s.service} ${s.port} ${s.health} home`);
  const tag = `${PREFIX}/standin-${s.service}:${short(h)}`;
  if (await exists(tag)) return tag;
  const ctx = mkdtempSync('/var/tmp/twincigo-lab-standin-');
  writeFileSync(
    join(ctx, 'Dockerfile'),
    // kong's compose entrypoint renders ~/kong.yml: the real image's home is /home/kong
    `FROM ${standin}\nENV STANDIN_NAME=${s.service} STANDIN_PORT=${s.port} STANDIN_HEALTH=${s.health}${s.service === 'kong' ? ' HOME=/home/kong' : ''}\n${s.service === 'kong' ? 'RUN mkdir -p /home/kong\n' : ''}EXPOSE ${s.port}\n`,
  );
  try {
    await docker(['build', '-q', '-t', tag, ctx]);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return tag;
}

/** The manifest digest the registry holds for a tag, or null when it has none. */
async function registryDigest(repo: string, version: string): Promise<string | null> {
  const res = await fetch(`http://127.0.0.1:${REGISTRY.hostPort}/v2/${repo}/manifests/${version}`, {
    method: 'HEAD',
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
  });
  return res.status === 200 ? res.headers.get('docker-content-digest') : null;
}

/**
 * Pushes a lab image to the registry (skipped when the registry has that tag); returns how nodes
 * name it — by tag, and pinned by the digest the registry serves (what prod references).
 */
export async function pushImage(tag: string): Promise<{ ref: string; pinned: string }> {
  const [repo, version] = tag.split(':') as [string, string];
  let digest = await registryDigest(repo, version);
  if (!digest) {
    const hostRef = `127.0.0.1:${REGISTRY.hostPort}/${repo}:${version}`;
    await docker(['tag', tag, hostRef]);
    await docker(['push', '-q', hostRef]);
    await docker(['rmi', hostRef], { reject: false });
    digest = await registryDigest(repo, version);
    if (!digest) throw new Error(`the lab registry has no digest for ${repo}:${version} after the push`);
  }
  return { ref: `${NODE_REGISTRY}/${repo}:${version}`, pinned: `${NODE_REGISTRY}/${repo}@${digest}` };
}
