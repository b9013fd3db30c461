import { describe, expect, it } from 'vitest';
import type { EnvironmentConfig, NodeConfig } from '../../src/config/model.js';
import { chainRules, clusterPorts, firewallPlan, applyFirewallCommand, publicPorts } from '../../src/bootstrap/firewall.js';
import { fetchCommands, missingImagesCommand, namesRegistry } from '../../src/bootstrap/images.js';
import { installDockerCommand } from '../../src/bootstrap/install-docker.js';
import { evaluate, needsDocker, type NodeInput } from '../../src/bootstrap/preflight.js';
import { parsePreflight, preflightCommand, type NodeFacts } from '../../src/bootstrap/preflight-probe.js';
import { changedContainers, upCommand } from '../../src/cluster/services.js';
import { notYet, ready, steadily, waitUntil } from '../../src/cluster/wait.js';
import { outline } from '../../src/engine/outline.js';
import { render } from '../../src/remote/shell.js';

const node = (name: string, ip: string, roles: NodeConfig['roles']): NodeConfig => ({ name, host: `203.0.113.${ip.split('.')[3]}`, privateAddress: ip, roles, ssh: {} });
const nodes = [
  node('hil-1', '10.0.0.1', ['etcd', 'patroni', 'haproxy', 'supabase', 'storage']),
  node('ash-1', '10.0.0.2', ['etcd', 'patroni', 'haproxy', 'backend', 'redis']),
  node('ash-2', '10.0.0.3', ['etcd', 'patroni', 'haproxy', 'monitoring']),
];
const env: EnvironmentConfig = { name: 'dev', profile: 'dev', baseDir: '/opt/twincigo-crm', envFile: '/x/.env', initialLeader: 'hil-1', rttMs: 70, nodes };

const PROBE = [
  '@@uid 0', '@@arch x86_64', '@@os ubuntu 24.04', '@@hostname hil-1', '@@cpus 2', '@@memkib 8048000', '@@diskkib 73400320',
  '@@curl yes', '@@api',
  '{"Version":"27.5.1","ApiVersion":"1.47"}', '@@part',
  '[{"Labels":{"com.docker.compose.service":"etcd"},"State":"running"},{"Labels":{"com.docker.compose.service":"patroni"},"State":"exited"}]', '@@part',
  '{"Volumes":[{"Name":"twincigo_pgdata"}],"Warnings":null}', '@@part', '@@endapi', '@@compose2 2.33.0',
  '@@iptables yes', '@@listen 0016', '@@listen 094B', '@@listen 1F90', '@@clock 1764100000123', '@@rtt ash-1 0.071234', '@@rtt ash-2 0',
].join('\n');

const facts = (over: Partial<NodeFacts> = {}): NodeFacts => ({ ...parsePreflight(PROBE.replace('@@rtt ash-2 0', '@@rtt ash-2 0.07')), ...over });
const input = (n: NodeConfig, f: NodeFacts, skewMs: number | null = 0): NodeInput => ({ node: n, facts: f, skewMs, limits: [{ service: 'x', file: 'f', cpus: 1, memoryMiB: 1024 }] });
const okInputs = () => nodes.map((n) => input(n, facts({ hostname: n.name, rttMs: new Map() })));

describe('preflight probe', () => {
  it('is one read-only root command with the peers as arguments', () => {
    const cmd = render(preflightCommand('/opt/t', [{ name: 'ash-1', address: '10.0.0.2', sshPort: 22 }]), { sudo: true });
    expect(cmd.startsWith("sudo -n -- sh -c '")).toBe(true);
    expect(cmd.endsWith(" sh /opt/t %7B%22label%22%3A%5B%22com.docker.compose.project%3Dtwincigo%22%5D%7D 'ash-1 10.0.0.2 22'")).toBe(true);
  });

  it('reads a dead Docker engine as down', () => {
    expect(parsePreflight('@@api\n@@docker down\n@@endapi\n').docker).toBe('down');
  });

  it('parses every fact', () => {
    const f = parsePreflight(PROBE);
    expect(f).toMatchObject({ uid: 0, arch: 'x86_64', os: { id: 'ubuntu', version: '24.04' }, hostname: 'hil-1', cpus: 2, memMiB: 7859, curl: true, docker: '27.5.1', compose2: '2.33.0', iptables: true });
    expect(f.diskFreeGiB).toBe(70);
    expect([...f.listening].sort((a, b) => a - b)).toEqual([22, 2379, 8080]);
    expect(f.ours).toEqual(new Map([['etcd', 'running'], ['patroni', 'exited']]));
    expect(f.volumes).toEqual(['twincigo_pgdata']);
    expect(f.rttMs).toEqual(new Map([['ash-1', 71.2], ['ash-2', null]]));
  });
});

describe('preflight judgement', () => {
  it('passes healthy nodes', () => {
    expect(evaluate(env, okInputs())).toEqual([]);
  });

  it('names each problem with its node and what to do', () => {
    const inputs = okInputs();
    inputs[0] = input(nodes[0]!, facts({ hostname: 'same', uid: 1000, listening: new Set([5432]), ours: new Map(), rttMs: new Map([['ash-1', null]]) }));
    inputs[1] = input(nodes[1]!, facts({ hostname: 'same', diskFreeGiB: 2, memMiB: 512, rttMs: new Map() }));
    const msgs = evaluate(env, inputs).map((f) => `${f.level} ${f.node ?? '-'}: ${f.message}`);
    expect(msgs).toEqual([
      'error hil-1: commands do not run as root (sudo -n failed)',
      'error hil-1: port 5432 already in use (needed by patroni): stop what listens there',
      'error ash-1: its services may use 1024 MiB of memory, the node has 512 MiB',
      'error ash-1: only 2.0 GiB free for Docker (at least 5 GiB)',
      'error -: nodes hil-1, ash-1 share the hostname same: give each node its own',
      'error hil-1: cannot reach ash-1 (TCP to its SSH port): nodes must reach each other',
    ]);
  });

  it('accepts ports held by our own running services (a re-run)', () => {
    const inputs = okInputs();
    inputs[0] = input(nodes[0]!, facts({ hostname: 'hil-1', listening: new Set([2379, 2380]), ours: new Map([['etcd', 'running']]), rttMs: new Map() }));
    expect(evaluate(env, inputs)).toEqual([]);
  });

  it('warns on clock skew and slow links, fails on big skew', () => {
    const inputs = okInputs();
    inputs[2] = { ...input(nodes[2]!, facts({ hostname: 'ash-2', rttMs: new Map([['hil-1', 150]]) })), skewMs: 400 };
    expect(evaluate(env, inputs).map((f) => f.level + ' ' + f.message)).toEqual([
      'warning clocks differ by 400 ms between ash-2 and hil-1: enable NTP (timedatectl set-ntp true)',
      'warning round trip to hil-1 is 150 ms, more than etcd\'s heartbeat (110 ms from rttMs 70): raise rttMs in the inventory',
    ]);
    inputs[2] = { ...inputs[2]!, skewMs: 5000, facts: facts({ hostname: 'ash-2', rttMs: new Map() }) };
    expect(evaluate(env, inputs).map((f) => f.level)).toEqual(['error']);
  });

  it("Swarm's encrypted overlay: a kernel without ESP is refused with the fix, an unknown one warned; Compose and an unencrypted overlay do not ask", () => {
    const swarmEnv = { ...env, profile: 'prod' as const, orchestrator: 'swarm' as const, swarm: { replicas: {}, encrypted: true } };
    const inputs = okInputs();
    inputs[0] = input(nodes[0]!, facts({ hostname: 'hil-1', esp: false, rttMs: new Map() }));
    inputs[1] = input(nodes[1]!, facts({ hostname: 'ash-1', esp: undefined, rttMs: new Map() }));
    inputs[2] = input(nodes[2]!, facts({ hostname: 'ash-2', esp: true, rttMs: new Map() }));
    expect(evaluate(swarmEnv, inputs).map((f) => `${f.level} ${f.node}: ${f.message.split(' (')[0]}`)).toEqual([
      "error hil-1: the kernel has no IPsec ESP with AES-GCM, which Swarm's encrypted overlay needs",
      'warning ash-1: cannot tell whether the kernel does IPsec ESP',
    ]);
    expect(evaluate({ ...swarmEnv, swarm: { replicas: {}, encrypted: false } }, inputs)).toEqual([]);
    expect(evaluate(env, inputs)).toEqual([]);
    expect(parsePreflight('@@esp no\n').esp).toBe(false);
    expect(parsePreflight('@@esp yes\n').esp).toBe(true);
  });

  it('knows when Docker must be installed, and how', () => {
    expect(needsDocker(facts())).toBe(false);
    expect(needsDocker(facts({ compose2: undefined, compose1: '1.29.2' }))).toBe(true);
    expect(needsDocker({ ...facts(), docker: undefined })).toBe(true);
    expect(render(installDockerCommand({ id: 'ubuntu', version: '24.04' }), { sudo: true })).toBe(
      'sudo -n -- env DEBIAN_FRONTEND=noninteractive apt-get update -q && sudo -n -- env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io docker-compose-v2 && ' +
        "sudo -n -- sh -c 'if [ -d /run/systemd/system ]; then systemctl enable --now docker; fi; docker info >/dev/null'",
    );
  });
});

describe('firewall', () => {
  it('protects the ports of the node\'s roles', () => {
    expect(clusterPorts(nodes[0]!)).toEqual([2379, 2380, 5000, 5001, 5432, 7000, 8008, 8405]);
  });

  it('two chains of their own (INPUT and DOCKER-USER): loopback, Docker bridges, established, the nodes, the public ports; every other new TCP connection dropped', () => {
    const common = (c: string) => [
      `-A ${c} -i lo -j RETURN`,
      `-A ${c} -i docker0 -j RETURN`,
      `-A ${c} -i br-+ -j RETURN`,
      `-A ${c} -i docker_gwbridge -j RETURN`,
      `-A ${c} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN`,
      `-A ${c} -s 10.0.0.1/32 -j RETURN`,
      `-A ${c} -s 10.0.0.2/32 -j RETURN`,
    ];
    expect(chainRules(['10.0.0.1', '10.0.0.2'], [22, 443])).toEqual([
      '*filter',
      ':TWINCIGO - [0:0]',
      ':TWINCIGO-DOCKER - [0:0]',
      ...common('TWINCIGO'),
      '-A TWINCIGO -p tcp -m multiport --dports 22,443 -j RETURN',
      '-A TWINCIGO -p tcp -j DROP',
      // Swarm's gossip and VXLAN: the nodes only (their addresses returned above)
      '-A TWINCIGO -p udp -m multiport --dports 4789,7946 -j DROP',
      ...common('TWINCIGO-DOCKER'),
      '-A TWINCIGO-DOCKER -p tcp -m conntrack --ctorigdstport 22 -j RETURN',
      '-A TWINCIGO-DOCKER -p tcp -m conntrack --ctorigdstport 443 -j RETURN',
      '-A TWINCIGO-DOCKER -p tcp -j DROP',
      'COMMIT',
    ]);
  });

  it('public ports: SSH everywhere; prod only the edge (80/443 on the Supabase node); dev also Kong and the backend, on their nodes', () => {
    const prod = { ...env, profile: 'prod' as const };
    expect(env.nodes.map((n) => publicPorts(env, n))).toEqual(env.nodes.map((n) => [22, ...(n.roles.includes('supabase') ? [8000] : []), ...(n.roles.includes('backend') ? [8080] : [])].sort((a, b) => a - b)));
    expect(prod.nodes.map((n) => publicPorts(prod, n))).toEqual(prod.nodes.map((n) => (n.roles.includes('supabase') ? [22, 80, 443] : [22])));
    const onPort = { ...nodes[0]!, ssh: { ...nodes[0]!.ssh, port: 2222 } };
    expect(publicPorts(prod, onPort)).toContain(2222);
    // nothing else public in prod: not the database, HAProxy, etcd, exporters, MinIO, the backend
    for (const n of prod.nodes) for (const p of [5432, 5000, 5001, 7000, 8008, 2379, 2380, 9100, 9187, 9090, 9093, 3000, 3100, 8000, 8443, 9000, 9001, 8080, 6379]) expect(publicPorts(prod, n)).not.toContain(p);
  });

  it('script: both families, each chain hooked in once, DOCKER-USER made when Docker has not yet, ufw allowed when active', () => {
    const fw = firewallPlan(env, nodes[1]!);
    expect(fw.allowed).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(fw.script).toContain('iptables -C INPUT -j TWINCIGO 2>/dev/null || iptables -I INPUT 1 -j TWINCIGO');
    expect(fw.script).toContain('iptables -N DOCKER-USER 2>/dev/null || true');
    expect(fw.script).toContain('iptables -C DOCKER-USER -j TWINCIGO-DOCKER 2>/dev/null || iptables -I DOCKER-USER 1 -j TWINCIGO-DOCKER');
    expect(fw.script).toContain('ip6tables -C DOCKER-USER -j TWINCIGO-DOCKER 2>/dev/null || ip6tables -I DOCKER-USER 1 -j TWINCIGO-DOCKER');
    expect(fw.script).toContain('ip6tables-restore --noflush');
    expect(fw.script).toContain('ufw allow from 10.0.0.3 proto tcp to any port 2379,2380,5000,5001,5432,7000,8008,8405 comment twincigo');
    expect(render(applyFirewallCommand('/opt/t'))).toMatch(/^sh -c .* sh \/opt\/t\/firewall\.sh '\[Unit\]/);
  });
});

describe('images', () => {
  it('pulls third-party images; our Patroni image only from a registry its reference names, else built on the node', () => {
    const cmds = fetchCommands('/b', ['compose/etcd.yml'], [
      { service: 'etcd', image: 'reg/etcd:1', buildable: false },
      { service: 'patroni', image: 'registry.twincigo.internal:5000/twincigo/patroni:1', buildable: true },
    ]).map((c) => render(c));
    expect(cmds).toEqual([
      'docker compose --project-name twincigo --project-directory /b --env-file /b/.env -f /b/compose/etcd.yml pull --quiet etcd',
      "sh -c 'docker pull --quiet \"$1\" >/dev/null 2>&1 || { shift; \"$@\"; }' sh registry.twincigo.internal:5000/twincigo/patroni:1 docker compose --project-name twincigo --project-directory /b --env-file /b/.env -f /b/compose/etcd.yml build patroni",
    ]);
    // our own image by a bare (public) name is never pulled: anyone could publish twincigo/patroni
    const bare = fetchCommands('/b', ['compose/patroni.yml'], [{ service: 'patroni', image: 'twincigo/patroni:1', buildable: true }]).map((c) => render(c));
    expect(bare).toEqual(['docker compose --project-name twincigo --project-directory /b --env-file /b/.env -f /b/compose/patroni.yml build patroni']);
    expect(['twincigo/patroni:1', 'patroni', 'library/postgres:17'].map(namesRegistry)).toEqual([false, false, false]);
    expect(['10.0.0.5:5000/p:1', 'localhost/p', 'ghcr.io/twincigo/patroni@sha256:ab'].map(namesRegistry)).toEqual([true, true, true]);
    expect(render(missingImagesCommand(['a:1', 'b:2']))).toBe('sh -c \'for i in "$@"; do docker image inspect "$i" >/dev/null 2>&1 || echo "$i"; done\' sh a:1 b:2');
  });
});

describe('steadily', () => {
  it('counts only an answer that stays the same for the whole time; a change or a miss starts over', async () => {
    let t = 0;
    const answers = [ready('a'), ready('b'), ready('b'), notYet('down'), ready('b'), ready('b'), ready('b')];
    const check = steadily(async () => answers.shift()!, 2000, () => t);
    const seen: string[] = [];
    for (let i = 0; i < 7; i++, t += 1000) {
      const r = await check();
      seen.push(r.ready ? `ready ${r.value}` : r.why);
    }
    expect(seen).toEqual(['a, steady for 0 s', 'b, steady for 0 s', 'b, steady for 1 s', 'down', 'b, steady for 0 s', 'b, steady for 1 s', 'ready b']);
  });
});

describe('compose up', () => {
  it('never builds, waits for health when asked', () => {
    expect(render(upCommand('/b', ['compose/redis.yml'], ['redis'], 120))).toBe(
      'docker compose --project-name twincigo --project-directory /b --env-file /b/.env -f /b/compose/redis.yml up -d --no-build --wait --wait-timeout 120 redis',
    );
  });

  it('tells started containers from unchanged ones', () => {
    const out = [' Container twincigo-etcd-1  Running', ' Container twincigo-redis-1  Recreate', ' Container twincigo-redis-1  Recreated', ' Container twincigo-redis-1  Starting', ' Container twincigo-redis-1  Started', ' Container twincigo-x-1  Healthy'].join('\n');
    expect(changedContainers(out)).toEqual(['twincigo-redis-1']);
    expect(changedContainers(' Container twincigo-etcd-1  Running\n Container twincigo-etcd-1  Healthy')).toEqual([]);
  });
});

describe('waitUntil', () => {
  it('polls until ready, logging each new reason', async () => {
    const answers = [notYet('a'), notYet('a'), notYet('b'), ready(42)];
    const log: string[] = [];
    await expect(waitUntil('x', async () => answers.shift()!, { timeoutMs: 5000, intervalMs: 1, log: (l) => log.push(l) })).resolves.toBe(42);
    expect(log).toEqual(['waiting: a', 'waiting: b']);
  });

  it('times out with the last reason; a throwing check is "not yet"', async () => {
    await expect(waitUntil('etcd quorum', async () => { throw new Error('connection refused'); }, { timeoutMs: 30, intervalMs: 5 })).rejects.toThrow('etcd quorum: not ready after 0s — connection refused');
  });

  it('stops on abort', async () => {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error('stop')), 20);
    await expect(waitUntil('x', async () => notYet('n'), { timeoutMs: 10_000, intervalMs: 5, signal: ctl.signal })).rejects.toThrow('stop');
  });
});

describe('outline', () => {
  it('lists phases × nodes × steps without running anything', () => {
    const plan = {
      title: 't',
      phases: [
        { title: 'A', steps: [{ title: 's1', run: async () => { throw new Error('ran'); } }, { title: 's2', when: (n: NodeConfig) => n.name === 'hil-1', run: async () => undefined }] },
        { title: 'B', nodes: [nodes[2]!], serial: true, steps: [{ title: 's3', run: async () => undefined }], then: [{ title: 'gate', run: async () => undefined }] },
      ],
    };
    expect(outline(plan, nodes, 3)).toEqual(['3. A', '   hil-1: s1 → s2', '   ash-1: s1', '   ash-2: s1', '4. B (one node at a time)', '   ash-2: s3', '   then: gate']);
  });
});

describe('image references', () => {
  it('interpolates as compose does, nested defaults included; says which variables a value used; keeps $ literal for stack deploy when asked', async () => {
    const { interpolate } = await import('../../src/swarm/interpolate.js');
    const vars = { A: 'a', E: '', D: 'p$w' };
    expect(interpolate('x/${A}:$A-${B:-d}-${E:-e}-${E-f}-${A:+p}-${B+q}-$$', vars).value).toBe('x/a:a-d-e--p--$');
    expect(() => interpolate('${B:?B is required}', vars)).toThrow('B: B is required');
    expect(interpolate('${TLS:-${A}}', vars)).toEqual({ value: 'a', used: ['TLS', 'A'] });
    expect(interpolate('${D}-$$HOME', vars, true).value).toBe('p$$w-$$HOME');
    expect(interpolate('${D}-$$HOME', vars).value).toBe('p$w-$HOME');
  });

  it('resolves every image of a rendered bundle, overrides merged in order', async () => {
    const { bundleImages } = await import('../../src/bootstrap/images.js');
    const bundle = {
      node: 'n',
      composeFiles: ['compose/a.yml', 'compose/prod/a.yml'],
      files: [
        { path: 'compose/a.yml', content: 'services:\n  db:\n    image: ${DB_IMAGE:-postgres:17}\n    build: { context: . }\n  app:\n    image: ${APP_IMAGE:?set APP_IMAGE}\n', mode: 0o644, secret: false },
        { path: 'compose/prod/a.yml', content: 'services:\n  app:\n    image: reg/app:${TAG}\n', mode: 0o644, secret: false },
        { path: '.env', content: "TAG='1.2'\nAPP_IMAGE=unused\n", mode: 0o600, secret: true },
      ],
    };
    expect(bundleImages(bundle)).toEqual([
      { service: 'db', image: 'postgres:17', buildable: true, stack: false },
      { service: 'app', image: 'reg/app:1.2', buildable: false, stack: false },
    ]);
  });
});
