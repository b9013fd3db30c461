import { containerName } from '../remote/compose.js';
import { root, type Command } from '../remote/shell.js';

/** The endpoints status reads on every node, in the order the probe prints them; then one inspect per service. */
export const PARTS = ['patroni', 'cluster', 'etcd-health', 'etcd-status', 'haproxy'] as const;
export type Part = (typeof PARTS)[number];

/**
 * One remote command gathers everything status needs from a node, read on the node itself (no
 * port is opened to the operator): Patroni's REST API, etcd's health and status, this node's HAProxy
 * stats (password from the node's .env, given to curl on stdin, never in its argv), each expected container (Docker's API on its socket, by
 * compose's container name), disk, memory and clock. Shell built-ins, `date`, `df` and one curl
 * for every request (all on loopback: ~50 ms). Each response ends with `@@<http code>` (000: no answer).
 */
/** The probe, as a POSIX sh script (kept out of a template literal: it is full of `${…}`). */
const SCRIPT = [
  "base=\"$1\"; shift",
  "pw=",
  "if [ -r \"$base/.env\" ]; then",
  "  while IFS= read -r line; do",
  "    case \"$line\" in HAPROXY_STATS_PASSWORD=*) pw=\"${line#HAPROXY_STATS_PASSWORD=}\"; pw=\"${pw#\\'}\"; pw=\"${pw%\\'}\";; esac",
  "  done < \"$base/.env\"",
  "fi",
  "echo \"@@clock $(date +%s%3N)\"",
  "df -Pk / | { read -r _; read -r _ size used _; echo \"@@disk $used,$size\"; }",
  "while read -r k v _; do case \"$k\" in MemTotal:) t=$v;; MemAvailable:) a=$v;; esac; done < /proc/meminfo",
  "echo \"@@memory $((t - a)),$t\"",
  "w='\\n@@%{http_code}\\n'",
  "set -- -w \"$w\" http://127.0.0.1:8008/patroni -w \"$w\" http://127.0.0.1:8008/cluster -w \"$w\" http://127.0.0.1:2379/health \\",
  "  --next -m 2 -w \"$w\" -X POST -d '{}' http://127.0.0.1:2379/v3/maintenance/status \\",
  "  --next -m 2 -w \"$w\" -K - \"http://127.0.0.1:7000/;csv\" \\",
  "  $(for c in \"$@\"; do printf -- '--next -m 2 -w %s --unix-socket /var/run/docker.sock http://d/containers/%s/json ' \"$w\" \"$c\"; done)",
  // the stats password reaches curl as a config file on stdin (printf is a built-in): never in an argv
  "esc=$(printf '%s' \"$pw\" | sed 's/[\\\\\"]/\\\\&/g')",
  "printf 'user = \"admin:%s\"\\n' \"$esc\" | curl -s --max-time 2 \"$@\"",
].join('\n');


export function probeCommand(baseDir: string, services: readonly string[]): Command {
  return root('sh', '-c', SCRIPT, 'sh', baseDir, ...services.map(containerName));
}

export interface ProbeOutput {
  clock?: number;
  disk?: string;
  memory?: string;
  /** Body of each endpoint; absent when nothing answered or it failed. */
  parts: Partial<Record<Part, string>>;
  /** Docker's inspect document per expected service; null when the container does not exist. */
  containers: Array<string | null>;
}

/** Splits the probe's output: curl writes the responses in argument order. */
export function parseProbe(stdout: string, services: number): ProbeOutput {
  const out: ProbeOutput = { parts: {}, containers: [] };
  const bodies: Array<string | null> = [];
  let body: string[] = [];
  for (const line of stdout.split('\n')) {
    const head = /^@@(clock|disk|memory) (.*)$/.exec(line);
    if (head) {
      if (head[1] === 'clock') out.clock = Number(head[2]);
      else out[head[1] as 'disk' | 'memory'] = head[2];
      continue;
    }
    const end = /^@@(\d{3})$/.exec(line);
    if (!end) {
      body.push(line);
      continue;
    }
    const text = body.join('\n').trim();
    bodies.push(/^2\d\d$/.test(end[1]!) && text !== '' ? text : null);
    body = [];
  }
  PARTS.forEach((p, i) => {
    const b = bodies[i];
    if (b) out.parts[p] = b;
  });
  out.containers = Array.from({ length: services }, (_, i) => bodies[PARTS.length + i] ?? null);
  return out;
}
