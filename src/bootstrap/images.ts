import { parse as parseEnv } from 'dotenv';
import { root, type Command } from '../remote/shell.js';
import { compose } from '../remote/compose.js';
import type { NodeBundle } from '../stack/bundle.js';
import { parseCompose } from '../stack/resources.js';
import { interpolate } from '../swarm/interpolate.js';
import { STACK_FILE } from '../swarm/stack-file.js';

/** A service's image as compose resolved it on the node (env substituted). */
export interface ServiceImage {
  service: string;
  image: string;
  /** The service can be built on the node (our Patroni image) when no registry has it. */
  buildable: boolean;
  /** A Swarm stack service's (pulled with docker pull: Compose does not know it). */
  stack: boolean;
}

/**
 * The images a node's bundle runs, resolved here as compose resolves them (files merged in order,
 * variables from the rendered .env): no round trip to ask compose on the node.
 */
export function bundleImages(bundle: NodeBundle): ServiceImage[] {
  const envFile = bundle.files.find((f) => f.path === '.env');
  const vars = envFile ? parseEnv(envFile.content) : {};
  const services = new Map<string, { image?: string; buildable: boolean }>();
  for (const path of bundle.composeFiles) {
    const f = bundle.files.find((x) => x.path === path);
    const doc = f ? (parseCompose(f.content) as { services?: Record<string, { image?: string; build?: unknown } | null> } | null) : null;
    for (const [name, def] of Object.entries(doc?.services ?? {})) {
      const prev = services.get(name) ?? { buildable: false };
      if (typeof def?.image === 'string') prev.image = def.image;
      if (def?.build !== undefined) prev.buildable = true;
      services.set(name, prev);
    }
  }
  const composed = [...services]
    .filter(([, s]) => s.image !== undefined)
    .map(([service, s]) => ({ service, image: interpolate(s.image!, vars).value, buildable: s.buildable, stack: false }));
  // Swarm: the stack's images, which any node of its may be given a task of (rendered in full)
  const stack = bundle.files.find((f) => f.path === STACK_FILE);
  const tasks = stack ? Object.entries((parseCompose(stack.content) as { services: Record<string, { image: string }> }).services) : [];
  return [...composed, ...tasks.map(([service, s]) => ({ service, image: s.image, buildable: false, stack: true }))];
}

/** Prints the images of the list that the node's Docker does not have, one per line. */
export function missingImagesCommand(images: readonly string[]): Command {
  return root('sh', '-c', 'for i in "$@"; do docker image inspect "$i" >/dev/null 2>&1 || echo "$i"; done', 'sh', ...images);
}

/**
 * Whether an image reference names its registry (`registry.example.com/…`, `10.0.0.5:5000/…`,
 * `localhost/…`) rather than a bare name that Docker would look up on a public registry.
 */
export function namesRegistry(image: string): boolean {
  const first = image.split('/')[0]!;
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
}

/**
 * How a missing image gets onto the node: pulled by compose; our own image (a buildable service:
 * Patroni) is never pulled by a bare public name — anyone could publish that name — it is pulled
 * only from a registry its reference names (one the operator runs), else built on the node from
 * the uploaded Dockerfile (or sent with --ship-images).
 */
export function fetchCommands(baseDir: string, files: readonly string[], missing: readonly ServiceImage[]): Command[] {
  const pull = missing.filter((m) => !m.buildable && !m.stack).map((m) => m.service);
  const out: Command[] = [];
  if (pull.length > 0) out.push(compose(baseDir, files, 'pull', '--quiet', ...pull));
  for (const image of new Set(missing.filter((m) => m.stack).map((m) => m.image))) out.push(root('docker', 'pull', '--quiet', image));
  for (const m of missing.filter((x) => x.buildable)) {
    const build = compose(baseDir, files, 'build', m.service);
    out.push(namesRegistry(m.image) ? root('sh', '-c', 'docker pull --quiet "$1" >/dev/null 2>&1 || { shift; "$@"; }', 'sh', m.image, ...argvOf(build)) : build);
  }
  return out;
}

function argvOf(cmd: Command): string[] {
  if (cmd.kind !== 'run') throw new Error('expected a simple command');
  return [...cmd.argv];
}

/** `docker load` on the node, fed by `docker save` on the operator's machine (--ship-images). */
export const loadImageCommand = (): Command => root('docker', 'load', '--quiet');
