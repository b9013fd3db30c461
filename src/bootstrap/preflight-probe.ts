import { PROJECT } from '../remote/compose.js';
import { root, type Command } from '../remote/shell.js';

/**
 * Preflight's one read-only command per node: everything bootstrap must know before it changes
 * anything. It runs as root (sudo -n when the SSH user is not root, so a missing sudo right fails
 * here, first). Each fact is a line `@@key value`. Kept out of a template literal: it is full of `${…}`.
 */
const SCRIPT = [
  'base="$1"; filters="$2"; shift 2',
  'echo "@@uid $(id -u)"',
  'echo "@@arch $(uname -m)"',
  'if [ -r /etc/os-release ]; then . /etc/os-release; echo "@@os ${ID:-?} ${VERSION_ID:-?}"; fi',
  'echo "@@hostname $(hostname)"',
  'echo "@@cpus $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"',
  'while read -r k v _; do [ "$k" = MemTotal: ] && echo "@@memkib $v"; done < /proc/meminfo',
  // free space where Docker keeps images and volumes (or / before Docker is installed)
  'd=/var/lib/docker; [ -d "$d" ] || d=/',
  'df -Pk "$d" | { read -r _; read -r _ _ _ avail _; echo "@@diskkib $avail"; }',
  'command -v curl >/dev/null && echo "@@curl yes"',
  '[ -r "$base/.applied.json" ] && echo "@@applied $(tr -d "\\n" < "$base/.applied.json")"',
  'if command -v ufw >/dev/null; then echo "@@ufw $(ufw status 2>/dev/null | head -n 1)"; fi',
  'command -v iptables-restore >/dev/null && echo "@@iptables yes"',
  // IPsec ESP with AES-GCM, what Docker's encrypted overlay (Swarm) uses: one state added in a
  // throwaway network namespace (nothing on the node changes); unknown without ip/unshare
  "if command -v ip >/dev/null && command -v unshare >/dev/null; then unshare -n ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 reqid 1 mode transport aead 'rfc4106(gcm(aes))' 0x000102030405060708090a0b0c0d0e0f10111213 128 >/dev/null 2>&1 && echo '@@esp yes' || echo '@@esp no'; fi",
  // listening TCP ports (state 0A), IPv4 and IPv6, without depending on ss/netstat
  "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r _ local _ st _; do [ \"$st\" = 0A ] && echo \"@@listen ${local##*:}\"; done",
  // Docker: its API on the socket with one curl (the docker CLI costs ~0.3 s per call on a busy
  // node); compose v2 is the CLI plugin, asked directly; v1 only when there is no v2
  'if command -v docker >/dev/null; then',
  '  if [ -S /var/run/docker.sock ] && command -v curl >/dev/null; then',
  "    echo '@@api'",
  '    curl -s --max-time 5 --unix-socket /var/run/docker.sock -w "\\n@@part\\n" http://d/version \\',
  '      --next --unix-socket /var/run/docker.sock -w "\\n@@part\\n" "http://d/containers/json?all=1&filters=$filters" \\',
  '      --next --unix-socket /var/run/docker.sock -w "\\n@@part\\n" "http://d/volumes?filters=$filters" || echo "@@docker down"',
  "    echo '@@endapi'",
  '  else echo "@@docker down"; fi',
  '  for d in /usr/local/lib/docker/cli-plugins /usr/local/libexec/docker/cli-plugins /usr/lib/docker/cli-plugins /usr/libexec/docker/cli-plugins; do',
  '    if [ -x "$d/docker-compose" ]; then v=$("$d/docker-compose" version --short 2>/dev/null) && echo "@@compose2 $v" && c2=1 && break; fi',
  '  done',
  'fi',
  '[ -z "$c2" ] && command -v docker-compose >/dev/null && v=$(docker-compose version --short 2>/dev/null) && echo "@@compose1 $v"',
  // the network questions run in parallel; each answer is one short line
  // an existing cluster (a re-run): what this node's Patroni says of the members
  '{ command -v curl >/dev/null && c=$(curl -s --max-time 2 http://127.0.0.1:8008/cluster | tr -d "\\n") && [ -n "$c" ] && echo "@@cluster $c"; } &',
  // round trip to each peer: one TCP connect to its SSH port, timed by curl (a failed connect prints 0)
  'for p in "$@"; do',
  '  set -- $p',
  '  { t=$(curl -s -o /dev/null -w "%{time_connect}" --connect-timeout 3 --max-time 4 "http://$2:$3/" 2>/dev/null); echo "@@rtt $1 ${t:-0}"; } &',
  'done',
  'wait',
  'exit 0',
].join('\n');

export interface Peer {
  name: string;
  address: string;
  sshPort: number;
}

export function preflightCommand(baseDir: string, peers: readonly Peer[]): Command {
  const filters = encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${PROJECT}`] }));
  return root('sh', '-c', SCRIPT, 'sh', baseDir, filters, ...peers.map((p) => `${p.name} ${p.address} ${p.sshPort}`));
}

/** What a node told preflight. */
export interface NodeFacts {
  uid?: number;
  arch?: string;
  os?: { id: string; version: string };
  hostname?: string;
  cpus?: number;
  memMiB?: number;
  diskFreeGiB?: number;
  curl: boolean;
  /** Docker server version; "down" when the client exists but the engine does not answer. */
  docker?: string;
  compose2?: string;
  compose1?: string;
  /** twincigo's own containers: service → state. */
  ours: Map<string, string>;
  volumes: string[];
  /** "Status: active" / "Status: inactive" when ufw is installed. */
  ufw?: string;
  iptables: boolean;
  /** The kernel does IPsec ESP with AES-GCM (Docker's encrypted overlay); undefined: could not tell. */
  esp?: boolean;
  listening: Set<number>;
  /** The bundle digest bootstrap recorded after its last successful run on this node. */
  appliedDigest?: string;
  /** Patroni's members as this node sees them (a running cluster), else absent. */
  members?: Array<{ name: string; role: string; state: string }>;
  /** Peer name → TCP connect time in ms (null: could not connect). */
  rttMs: Map<string, number | null>;
}

const json = <T>(text: string | undefined): T | undefined => {
  try {
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
};

/** Docker's API answers (version, our containers, our volumes), between @@api and @@endapi. */
function parseDockerApi(f: NodeFacts, body: string): void {
  const [version, containers, volumes] = body.split('\n@@part').map((p) => p.trim());
  const v = json<{ Version?: string }>(version);
  if (!v?.Version) {
    f.docker = 'down';
    return;
  }
  f.docker = v.Version;
  for (const c of json<Array<{ Labels?: Record<string, string>; State?: string }>>(containers) ?? []) {
    const svc = c.Labels?.['com.docker.compose.service'];
    if (svc) f.ours.set(svc, c.State ?? '?');
  }
  for (const vol of json<{ Volumes?: Array<{ Name: string }> | null }>(volumes)?.Volumes ?? []) f.volumes.push(vol.Name);
}

export function parsePreflight(stdout: string): NodeFacts {
  const f: NodeFacts = { curl: false, ours: new Map(), volumes: [], iptables: false, listening: new Set(), rttMs: new Map() };
  const api = /^@@api\n([\s\S]*?)^@@endapi$/m.exec(stdout);
  if (api) parseDockerApi(f, api[1]!);
  for (const line of stdout.replace(/^@@api\n[\s\S]*?^@@endapi$/m, '').split('\n')) {
    const m = /^@@(\w+) ?(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, key, v = ''] = m;
    switch (key) {
      case 'uid': f.uid = Number(v); break;
      case 'arch': f.arch = v; break;
      case 'os': { const [id = '?', version = '?'] = v.split(' '); f.os = { id, version }; break; }
      case 'hostname': f.hostname = v; break;
      case 'cpus': f.cpus = Number(v); break;
      case 'memkib': f.memMiB = Math.floor(Number(v) / 1024); break;
      case 'diskkib': f.diskFreeGiB = Number(v) / (1024 * 1024); break;
      case 'curl': f.curl = true; break;
      case 'esp': f.esp = v === 'yes'; break;
      case 'docker': f.docker = v; break;
      case 'compose2': f.compose2 = v; break;
      case 'compose1': f.compose1 = v; break;
      case 'ufw': f.ufw = v; break;
      case 'iptables': f.iptables = true; break;
      case 'listen': { const port = parseInt(v, 16); if (Number.isFinite(port)) f.listening.add(port); break; }
      case 'applied': f.appliedDigest = json<{ digest?: string }>(v)?.digest; break;
      case 'cluster': {
        try {
          f.members = (JSON.parse(v) as { members?: NodeFacts['members'] }).members ?? [];
        } catch {
          /* not Patroni's answer: no cluster */
        }
        break;
      }
      case 'rtt': {
        const [peer, secs] = v.split(' ');
        const s = Number(secs);
        if (peer) f.rttMs.set(peer, s > 0 ? Math.round(s * 10_000) / 10 : null);
        break;
      }
    }
  }
  return f;
}
