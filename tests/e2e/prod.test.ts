import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { psqlQueryCommand } from '../../dist/cluster/psql.js';
import { loadConfig } from '../../dist/config/load.js';
import { readEnvFile } from '../../dist/config/env-file.js';
import { SshPool } from '../../dist/ssh/pool.js';
import { LAB_ALERT_RECEIVER, LAB_PROD_ENV_FILE, LAB_PROD_HOST, LAB_PROD_INVENTORY, NODES, OFFSITE_S3, REPO, SPARE_IPS, containerName } from '../lab/config.ts';
import { canReach, taskContainer, wipeStack } from '../lab/faults.ts';
import { inNode, sh, waitFor } from '../lab/run.ts';
import { openPorts } from '../lab/scan.ts';
import { emptyOffsite } from '../lab/offsite.ts';
import { runCli } from '../helpers/cli.js';
import { ApiProbe } from '../../dist/failover/api-probe.js';
import { pushImage } from '../lab/images.ts';
import { readState } from '../lab/lab.ts';
import { destroyNode, startBareNode } from '../lab/machines.ts';
import { prodRoles } from '../lab/inventory.ts';

/**
 * The prod profile on the lab's nodes (environment lab-prod: `npm run lab:up -- --prod`):
 * synchronous replication, Caddy with TLS (its internal CA here, ACME on real nodes), MinIO's
 * stand-in with storage's own key, Prometheus + Alertmanager + exporters, prod's limits scaled to
 * the lab's node size. From bare nodes: bootstrap, a no-op re-run, the edge over HTTPS, a port scan
 * from outside, the five drills losing nothing, a deploy of a changed PostgreSQL parameter.
 * The stack is wiped before and after: the dev-profile files find bare nodes, whichever runs first.
 */
const ENV = 'lab-prod';
const cli = (args: string[], timeoutMs = 400_000) => runCli([...args, '--env', ENV], { timeoutMs });
const config = () => loadConfig({ configPath: `${REPO}twincigo.yml`, env: ENV });
const pool = new SshPool(config().dir, { acceptNewHostKeys: false, passphrase: async () => '' });
const values = () => readEnvFile(LAB_PROD_ENV_FILE).values;
const hil = NODES[0]!;

async function containerStates(): Promise<string[]> {
  const out = await Promise.all(NODES.map((n) => inNode(containerName(n.name), ['sh', '-c', 'docker ps -aq | xargs -r docker inspect -f "{{.Name}} {{.Id}} {{.State.StartedAt}} {{.RestartCount}}"'])));
  return out.flatMap((r, i) => r.stdout.split('\n').filter(Boolean).map((l) => `${NODES[i]!.name} ${l}`)).sort();
}

/** The stack's tasks Swarm replaced because their healthcheck called them unhealthy: "<task id> <node>". */
async function unhealthyKills(): Promise<string[]> {
  const res = await inNode(containerName(hil.name), ['sh', '-c', 'docker service ps --no-trunc --filter desired-state=shutdown --format "{{.ID}} {{.Node}} {{.Error}}" $(docker service ls -q --filter label=com.docker.stack.namespace=twincigo-app)']);
  return res.stdout.split('\n').filter((l) => l.includes('unhealthy container')).map((l) => l.split(' ').slice(0, 2).join(' '));
}

async function status(): Promise<{ code: number | null; out: any }> {
  const res = await cli(['status', '--json'], 60_000);
  return { code: res.code, out: res.stdout ? JSON.parse(res.stdout) : null };
}

/** Bootstrapped once by the first test; any later test that finds it unhealthy says so rather than rebuilding. */
async function healthy(): Promise<any> {
  for (let i = 0; i < 60; i++) {
    const s = await status();
    if (s.code === 0) return s.out;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`lab-prod is not healthy: ${JSON.stringify((await status()).out?.warnings)}`);
}

const curlEdge = (path: string, ...extra: string[]) =>
  sh('curl', ['-sS', '--max-time', '10', '--resolve', `${LAB_PROD_HOST}:443:${hil.ip}`, '--resolve', `${LAB_PROD_HOST}:80:${hil.ip}`, '--cacert', `${REPO}.lab/lab-prod-ca.crt`, '-w', '\n%{http_code}', ...extra, `https://${LAB_PROD_HOST}${path}`], { reject: false });

/** The stack's task containers on every node: `<node> <container id> <service>` (what a no-op deploy must leave alone). */
async function taskStates(): Promise<string[]> {
  const out = await Promise.all(NODES.map((n) => inNode(containerName(n.name), ['docker', 'ps', '-q', '--no-trunc', '--filter', 'label=com.docker.stack.namespace=twincigo-app', '--format', '{{.ID}} {{.Label "com.docker.swarm.service.name"}}'])));
  return out.flatMap((r, i) => r.stdout.split('\n').filter(Boolean).map((l) => `${NODES[i]!.name} ${l}`)).sort();
}

/** A variant of the lab's backend image (Dockerfile lines over it), pushed to the lab registry; its pinned reference. */
async function backendVariant(name: string, lines: string[]): Promise<string> {
  const ref = readState()!.images.BACKEND_IMAGE!;
  const local = ref.slice(ref.indexOf('/') + 1);
  const dir = mkdtempSync('/var/tmp/twincigo-e2e-variant-');
  try {
    writeFileSync(`${dir}/Dockerfile`, [`FROM ${local}`, ...lines, ''].join('\n'));
    await sh('docker', ['build', '-q', '-t', `${local}-${name}`, dir]);
    return (await pushImage(`${local}-${name}`)).pinned;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The API through hil-1's edge, every 100 ms, as failover-test probes it. */
const edgeProbe = () => new ApiProbe({ edge: config().env.nodes[0]!, publicHost: LAB_PROD_HOST, apikey: values().ANON_KEY! });

/** The webhook receiver lab-prod's Alertmanager sends to (ALERT_WEBHOOK_URL, Alertmanager's JSON): every notification, timed. */
interface Notification { at: number; status: string; alerts: Array<{ status: string; labels: Record<string, string> }> }
const notifications: Notification[] = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (req.url === LAB_ALERT_RECEIVER.path) notifications.push({ at: Date.now(), ...JSON.parse(body) });
    res.writeHead(200).end();
  });
});
/** The first notification after `since` carrying the alert in that status. */
const notified = (since: number, alertname: string, status: 'firing' | 'resolved', node?: string) =>
  waitFor(`${alertname}${node ? ` on ${node}` : ''} ${status} at the webhook`, async () =>
    notifications.find((n) => n.at >= since && n.alerts.some((a) => a.status === status && a.labels.alertname === alertname && (!node || a.labels.node === node))), 240_000, 500);
const mon = containerName(NODES.find((n) => n.roles.includes('monitoring'))!.name);
const promQuery = async (q: string) => (await inNode(mon, ['docker', 'exec', 'twincigo-prometheus-1', 'promtool', 'query', 'instant', 'http://127.0.0.1:9090', q])).stdout.trim();

/** The env file as lab:up wrote it (a test leaves another backend image in it; afterAll puts it back). */
let envAtStart = '';
/** The inventory as lab:up wrote it (node replace moves a node to a spare address; afterAll puts it back). */
let inventoryAtStart = '';
const movedNodes: Array<{ name: string; image: string }> = [];
/** Machines the lab does not have by default (node add's fourth node): removed at the end. */
const extraNodes: string[] = [];
beforeAll(async () => {
  envAtStart = readFileSync(LAB_PROD_ENV_FILE, 'utf8');
  inventoryAtStart = readFileSync(LAB_PROD_INVENTORY, 'utf8');
  await new Promise<void>((resolve) => receiver.listen(LAB_ALERT_RECEIVER.port, LAB_ALERT_RECEIVER.host, resolve));
  await wipeStack();
  await emptyOffsite(); // bare nodes: no earlier lab-prod cluster's stanza in the offsite bucket either
}, 300_000);

afterAll(async () => {
  if (envAtStart) writeFileSync(LAB_PROD_ENV_FILE, envAtStart, { mode: 0o600 });
  receiver.close();
  await pool.closeAll();
  for (const name of extraNodes) await destroyNode(name).catch(() => undefined);
  // a replaced node's machine back at its own address, bare (first: a test that failed half-way may
  // have left it destroyed), then the other nodes' stacks removed
  for (const m of movedNodes) {
    await destroyNode(m.name).catch(() => undefined);
    await startBareNode(m.name, NODES.find((n) => n.name === m.name)!.ip, m.image);
  }
  await wipeStack(NODES.map((n) => n.name).filter((n) => !movedNodes.some((m) => m.name === n)));
  if (inventoryAtStart) writeFileSync(LAB_PROD_INVENTORY, inventoryAtStart);
}, 300_000);

describe('the prod profile (lab-prod) from bare nodes', () => {
  it("bootstrap refuses Swarm's encrypted overlay on a kernel without IPsec ESP (this machine's), naming the fix; nothing changed", async () => {
    const text = readFileSync(LAB_PROD_INVENTORY, 'utf8');
    const doc = parse(text);
    delete doc.environments[ENV].swarm;
    writeFileSync(LAB_PROD_INVENTORY, stringify(doc));
    try {
      const res = await cli(['bootstrap', '--yes'], 120_000);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain("the kernel has no IPsec ESP with AES-GCM, which Swarm's encrypted overlay needs");
      expect(res.stderr).toContain('swarm.encrypted: false');
      const left = await inNode(containerName(hil.name), ['sh', '-c', 'docker info --format "{{.Swarm.LocalNodeState}}"; ls /opt/twincigo-crm 2>/dev/null | wc -l']);
      expect(left.stdout.trim().split('\n')).toEqual(['inactive', '0']);
    } finally {
      writeFileSync(LAB_PROD_INVENTORY, text);
    }
  }, 180_000);

  it('bootstrap: healthy, synchronous with one standby, prod limits scaled to the node; a second run restarts nothing', async () => {
    const res = await cli(['bootstrap', '--yes', '--json'], 900_000);
    expect(res.code, res.stderr.slice(-4000)).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.healthy, JSON.stringify(out.statusWarnings)).toBe(true);
    const s = await healthy();
    expect(s.members.filter((m: { role: string }) => m.role === 'sync_standby')).toHaveLength(1);
    const c = await pool.get(config().nodes[0]!);
    expect((await c.run(psqlQueryCommand(5000, "select current_setting('synchronous_standby_names') <> ''"))).stdout.trim()).toBe('t');
    // the Patroni container's limit is prod's 16 GiB scaled to 8 GiB nodes, and PostgreSQL sized from it
    const limit = await inNode(containerName(hil.name), ['docker', 'inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}', 'twincigo-patroni-1']);
    expect(limit.stdout.trim()).toBe(`${4096 * 1024 * 1024} 750000000`);
    expect((await c.run(psqlQueryCommand(5432, 'show shared_buffers'))).stdout.trim()).toBe('1GB');

    const before = await containerStates();
    const again = await cli(['bootstrap', '--yes'], 300_000);
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(again.stdout).toContain(`bootstrap ${ENV}: already up to date — nothing changed, nothing restarted`);
    expect(await containerStates()).toEqual(before);
  }, 1_200_000);

  it("the edge: HTTPS from Caddy's CA to Kong and the service behind it (key-auth with the rendered keys), /api to the backend, HTTP redirected", async () => {
    await healthy();
    // the edge's task on hil-1 (the stack runs Caddy on every Supabase node)
    const ca = await inNode(containerName(hil.name), ['docker', 'exec', await taskContainer(hil.name, 'caddy'), 'cat', '/data/caddy/pki/authorities/local/root.crt']);
    writeFileSync(`${REPO}.lab/lab-prod-ca.crt`, ca.stdout);
    // a first start issues the certificate before the first answer: wait for it (up to 60 s)
    let rest = await curlEdge('/rest/v1/', '-H', `apikey: ${values().ANON_KEY}`);
    for (let i = 0; i < 60 && rest.exitCode !== 0; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      rest = await curlEdge('/rest/v1/', '-H', `apikey: ${values().ANON_KEY}`);
    }
    expect(rest.exitCode, rest.stderr).toBe(0);
    const [restBody, restCode] = rest.stdout.split('\n');
    expect(restCode).toBe('200');
    expect(JSON.parse(restBody!)).toMatchObject({ standin: 'rest' });
    const noKey = await curlEdge('/rest/v1/');
    expect(noKey.stdout.split('\n')[1]).toBe('401');
    const api = await curlEdge('/api/health');
    expect(api.stdout.split('\n')[1]).toBe('200');
    const plain = await sh('curl', ['-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '--resolve', `${LAB_PROD_HOST}:80:${hil.ip}`, `http://${LAB_PROD_HOST}/rest/v1/`], { reject: false });
    expect(plain.stdout).toBe(`308 https://${LAB_PROD_HOST}/rest/v1/`);
  }, 180_000);

  it('Swarm: three managers, labelled nodes, an encrypted overlay; every API service on two nodes; status shows each', async () => {
    const s = await healthy();
    const nodes = await inNode(containerName(hil.name), ['docker', 'node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}} {{.Status}}']);
    expect(nodes.stdout.trim().split('\n').sort()).toEqual(['lab-ash-1 Reachable Ready', 'lab-ash-2 Reachable Ready', 'lab-hil-1 Reachable Ready'].map((l) => expect.stringMatching(new RegExp(`^${l.split(' ')[0]} (Leader|Reachable) Ready$`))));
    const net = await inNode(containerName(hil.name), ['docker', 'network', 'inspect', '-f', '{{.Driver}} {{.Attachable}} {{json .Options}}', 'twincigo-app']);
    // encrypted wherever the kernel can (the inventory's default); this lab's kernel has no ESP (lab-prod says encrypted: false)
    expect(net.stdout).toMatch(/^overlay true /);
    expect(net.stdout.includes('"encrypted":""')).toBe(config().env.swarm.encrypted);
    const stack = s.stack as Array<{ service: string; running: number; desired: number; nodes: string[] }>;
    expect(stack.map((x) => x.service).sort()).toEqual(['auth', 'backend', 'caddy', 'imgproxy', 'kong', 'meta', 'realtime', 'rest', 'storage', 'studio']);
    for (const x of stack) expect(x, x.service).toMatchObject({ running: 2, desired: 2, nodes: ['lab-ash-1', 'lab-hil-1'] });
    const table = await cli(['status']);
    expect(table.stdout).toMatch(/App tier \(Swarm stack\):\n(.*\n)*  kong +2\/2 +lab-ash-1, lab-hil-1/);
  }, 120_000);

  it('deploy under Swarm: a no-op changes nothing; a new backend image rolls out with no failed request through the edge; a broken one is rolled back by Swarm and deploy says so', async () => {
    await healthy();
    const before = await taskStates();
    const noop = await cli(['deploy', '--yes']);
    expect(noop.code, noop.stderr.slice(-2000)).toBe(0);
    expect(noop.stdout).toContain('nothing changed');
    expect(await taskStates()).toEqual(before);

    const original = values().BACKEND_IMAGE!;
    const env = readFileSync(LAB_PROD_ENV_FILE, 'utf8');
    const setImage = (image: string) => writeFileSync(LAB_PROD_ENV_FILE, env.replace(`BACKEND_IMAGE=${original}`, `BACKEND_IMAGE=${image}`), { mode: 0o600 });
    const good = await backendVariant('v2', ['LABEL io.twincigo.e2e=v2']);
    const broken = await backendVariant('broken', ['ENTRYPOINT ["sh", "-c", "echo this build is broken >&2; exit 3"]', 'CMD []']);
    const image = async () => (await inNode(containerName(hil.name), ['docker', 'service', 'inspect', '-f', '{{.Spec.TaskTemplate.ContainerSpec.Image}}', 'twincigo-app_backend'])).stdout.trim();
    try {
      setImage(good);
      const probe = edgeProbe();
      probe.start();
      const t0 = Date.now();
      const rolled = await cli(['deploy', '--yes', '--json'], 600_000);
      await new Promise((r) => setTimeout(r, 2000));
      await probe.stop();
      expect(rolled.code, rolled.stderr.slice(-3000)).toBe(0);
      process.stderr.write(`[e2e] backend rolled out in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${probe.summary().attempts} requests through the edge, ${probe.summary().failed} failed\n`);
      expect(JSON.parse(rolled.stdout).stack).toEqual({ changed: ['backend'], removed: [] });
      expect(probe.summary().attempts).toBeGreaterThan(100);
      expect(probe.summary().failed).toBe(0);
      expect(await image()).toBe(good);

      setImage(broken);
      const bad = await cli(['deploy', '--yes'], 600_000);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/Swarm rolled back the update of backend/);
      expect(await image()).toBe(good);
      const audit = await inNode(containerName(hil.name), ['sh', '-c', 'tail -n 3 /opt/twincigo-crm/audit.log']);
      expect(audit.stdout).toMatch(/command="deploy \S+" result=rolled back/);
      // the good image stays for the rest of this file (a deploy back would cost a rolling update); afterAll restores the env file
      setImage(good);
    } catch (err) {
      writeFileSync(LAB_PROD_ENV_FILE, env, { mode: 0o600 });
      await cli(['deploy', '--yes'], 600_000);
      throw err;
    }
    await healthy();
  }, 1_500_000);

  it('nothing public but SSH and the edge: every TCP port of every node scanned from outside the cluster', async () => {
    await healthy();
    const scans = await Promise.all(NODES.map((n) => openPorts(n.ip)));
    expect(Object.fromEntries(NODES.map((n, i) => [n.name, scans[i]]))).toEqual({
      'lab-hil-1': [22, 80, 443],
      'lab-ash-1': [22, 80, 443],
      'lab-ash-2': [22],
    });
    // the services are there, for the cluster's nodes: PostgreSQL, HAProxy, Patroni, etcd, the exporters, Swarm's manager port
    for (const port of [5432, 5000, 8008, 2379, 9100, 9187, 2377]) expect(await canReach('lab-ash-2', 'lab-hil-1', port), `${port}`).toBe(true);
    // the backend publishes nothing: the edge reaches its tasks over the overlay
    expect(await canReach('lab-hil-1', 'lab-ash-1', 8080)).toBe(false);
    // MinIO publishes nothing at all: not even the nodes reach it
    expect(await canReach('lab-ash-1', 'lab-hil-1', 9000)).toBe(false);
  }, 300_000);

  it("storage's own MinIO key writes its bucket and nothing else; root is not what storage holds; its keys are a Swarm secret, not in its spec", async () => {
    await healthy();
    const v = values();
    const storage = await taskContainer(hil.name, 'storage');
    const storageEnv = await inNode(containerName(hil.name), ['docker', 'inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', storage]);
    expect(storageEnv.stdout).toContain('GLOBAL_S3_ENDPOINT=http://minio:9000');
    expect(storageEnv.stdout).not.toContain(v.STORAGE_S3_SECRET_KEY!);
    const spec = await inNode(containerName(hil.name), ['docker', 'service', 'inspect', 'twincigo-app_storage']);
    for (const secret of [v.STORAGE_S3_SECRET_KEY!, v.STORAGE_S3_ACCESS_KEY!, v.JWT_SECRET!, v.POSTGRES_PASSWORD!]) expect(spec.stdout).not.toContain(secret);
    const loaded = await inNode(containerName(hil.name), ['docker', 'exec', storage, 'cat', '/run/secrets/twincigo.env']);
    expect(loaded.stdout).toContain(`AWS_ACCESS_KEY_ID=${v.STORAGE_S3_ACCESS_KEY}`);
    expect(loaded.stdout).not.toContain(v.MINIO_ROOT_PASSWORD!);
    // the process itself has them (the loader exported them before starting the image's command)
    const proc = await inNode(containerName(hil.name), ['docker', 'exec', storage, 'sh', '-c', 'tr "\\0" "\\n" < /proc/1/environ']);
    expect(proc.stdout).toContain(`AWS_SECRET_ACCESS_KEY=${v.STORAGE_S3_SECRET_KEY}`);
    // a signed S3 request from a task on the overlay (kong's has curl), as storage makes them: MinIO (Compose, hil-1) by name
    const kong = await taskContainer(hil.name, 'kong');
    const s3 = (method: string, path: string, secret = v.STORAGE_S3_SECRET_KEY!) =>
      inNode(containerName(hil.name), ['docker', 'exec', kong, 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', method, '--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${v.STORAGE_S3_ACCESS_KEY}:${secret}`, '--data-binary', 'hello', `http://minio:9000${path}`], { reject: false });
    expect((await s3('PUT', '/supabase-storage/e2e.txt')).stdout).toBe('200');
    expect((await s3('GET', '/supabase-storage/e2e.txt')).stdout).toBe('200');
    expect((await s3('PUT', '/another-bucket')).stdout).toBe('403');
    expect((await s3('GET', '/supabase-storage/e2e.txt', 'wrong-secret-0000000000')).stdout).toBe('403');
  }, 120_000);

  it("backups: both repositories — the offsite one on S3 over HTTPS (the lab CA), encrypted, under the environment's path; the drill restores from it", async () => {
    await healthy();
    const list = await cli(['backup', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const backups = JSON.parse(list.stdout).backups as Array<{ repo: number; label: string; type: string }>;
    expect([...new Set(backups.map((b) => b.repo))].sort()).toEqual([1, 2]);
    expect((await status()).out.backups.offsite.lastBackup).toMatchObject({ type: 'full' });
    // the bucket as the provider sees it: objects under twincigo/lab-prod/, a manifest that is ciphertext
    const v = values();
    const peek = (secret: string) => sh('docker', ['exec', OFFSITE_S3.container, 'python3', '-c', `
import boto3, json, sys
s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:5000', verify=False, region_name='${OFFSITE_S3.region}', aws_access_key_id=sys.argv[1], aws_secret_access_key=sys.argv[2])
keys = [o['Key'] for o in s3.list_objects_v2(Bucket='${OFFSITE_S3.bucket}', Prefix='twincigo/lab-prod/')['Contents']]
manifest = next(k for k in keys if k.endswith('/backup.manifest'))
body = s3.get_object(Bucket='${OFFSITE_S3.bucket}', Key=manifest)['Body'].read()
print(json.dumps({'objects': len(keys), 'manifest': manifest, 'head': body[:8].decode('latin1'), 'plain': b'[backup]' in body}))`, v.BACKUP_S3_ACCESS_KEY!, secret], { reject: false });
    const seen = await peek(v.BACKUP_S3_SECRET_KEY!);
    expect(seen.exitCode, seen.stderr).toBe(0);
    const bucket = JSON.parse(seen.stdout);
    expect(bucket.objects).toBeGreaterThan(3);
    expect(bucket.manifest).toMatch(/^twincigo\/lab-prod\/backup\/twincigo\//);
    expect(bucket).toMatchObject({ head: 'Salted__', plain: false });
    const drill = await cli(['restore-test', '--repo', '2', '--json'], 600_000);
    expect(drill.code, drill.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(drill.stdout)).toMatchObject({ ok: true, repo: 2 });
  }, 700_000);

  it('alerting: nothing fires on a healthy cluster (Prometheus up 2 minutes, every target up); status lists no alert', async () => {
    await healthy();
    const started = Date.parse((await inNode(mon, ['docker', 'inspect', '-f', '{{.State.StartedAt}}', 'twincigo-prometheus-1'])).stdout.trim());
    const left = started + 130_000 - Date.now();
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    // Patroni, etcd, HAProxy, node and postgres exporters on three nodes, and the edge's probe
    expect(await promQuery('count(up == 1)')).toMatch(/^\{\} => 16 @/);
    expect(await promQuery('probe_success{job="edge"}')).toMatch(/^probe_success\{.*node="lab-hil-1".*\} => 1 @/);
    expect(await promQuery('ALERTS{alertstate="firing"}')).toBe('');
    const s = await status();
    expect(s.out.alerts).toEqual([]);
  }, 300_000);

  // two faults at once (independent alerts, each waits out its own `for:`): half the CI time of one after the other
  it("alerting: a replica's Patroni killed and the edge hung, at once → PatroniMemberDown and EdgeDown (critical) at the webhook within 2 minutes, status shows them; restored → both resolved", async () => {
    const leader = (await healthy()).leader as string;
    const replica = NODES.find((n) => n.name !== leader)!;
    // paused, not stopped: Swarm would start a new task at once
    const caddy = await taskContainer(hil.name, 'caddy');
    const t0 = Date.now();
    await inNode(containerName(replica.name), ['docker', 'kill', 'twincigo-patroni-1']);
    await inNode(containerName(hil.name), ['docker', 'pause', caddy]);
    try {
      const [member, edge] = await Promise.all([notified(t0, 'PatroniMemberDown', 'firing', replica.name), notified(t0, 'EdgeDown', 'firing', hil.name)]);
      process.stderr.write(`[e2e] PatroniMemberDown notified ${((member.at - t0) / 1000).toFixed(1)} s after the kill; EdgeDown ${((edge.at - t0) / 1000).toFixed(1)} s after Caddy hung\n`);
      expect(member.at - t0).toBeLessThan(120_000);
      expect(edge.at - t0).toBeLessThan(120_000);
      const s = await status();
      expect(s.code).toBe(3);
      expect(s.out.alerts).toContainEqual(expect.objectContaining({ name: 'PatroniMemberDown', severity: 'critical', node: replica.name }));
      expect(s.out.alerts).toContainEqual(expect.objectContaining({ name: 'EdgeDown', severity: 'critical', node: hil.name }));
    } finally {
      await inNode(containerName(replica.name), ['docker', 'start', 'twincigo-patroni-1']);
      await inNode(containerName(hil.name), ['docker', 'unpause', caddy]);
    }
    const t1 = Date.now();
    const [resolved] = await Promise.all([notified(t1, 'PatroniMemberDown', 'resolved', replica.name), notified(t1, 'EdgeDown', 'resolved', hil.name)]);
    process.stderr.write(`[e2e] PatroniMemberDown resolved ${((resolved.at - t1) / 1000).toFixed(1)} s after the restart\n`);
    await healthy();
  }, 400_000);

  it('alerting: the leader killed → PatroniLeaderChanged notified after the failover, and resolved', async () => {
    const leader = (await healthy()).leader as string;
    const t0 = Date.now();
    await inNode(containerName(leader), ['docker', 'kill', 'twincigo-patroni-1']);
    try {
      await waitFor('a new leader', async () => { const s = await status(); return s.out?.leader && s.out.leader !== leader; }, 120_000, 1000);
    } finally {
      await inNode(containerName(leader), ['docker', 'start', 'twincigo-patroni-1']);
    }
    const fired = await notified(t0, 'PatroniLeaderChanged', 'firing');
    process.stderr.write(`[e2e] PatroniLeaderChanged notified ${((fired.at - t0) / 1000).toFixed(1)} s after the leader was killed\n`);
    expect(fired.at - t0).toBeLessThan(120_000);
    await notified(fired.at, 'PatroniLeaderChanged', 'resolved');
    await healthy();
  }, 400_000);

  it("logs: every node's services in Loki, labelled with their node", async () => {
    const q = (query: string) =>
      inNode(mon, ['curl', '-sS', '--max-time', '5', `http://${NODES.find((n) => n.roles.includes('monitoring'))!.ip}:3100/loki/api/v1/query_range?limit=5&query=${encodeURIComponent(query)}`]);
    for (const n of NODES) {
      for (const service of ['patroni', 'etcd', 'node-exporter']) {
        await waitFor(`${service} of ${n.name} in Loki`, async () => JSON.parse((await q(`{env="${ENV}", node="${n.name}", service="${service}"}`)).stdout).data.result.length > 0, 60_000, 1000);
      }
    }
  }, 300_000);

  // stop-leader and switchover (graceful: no write can be lost) are proven on the dev profile (failover.test.ts)
  for (const scenario of ['kill-leader', 'node-down', 'partition', 'app-node-down'] as const) {
    it(`failover-test ${scenario} with synchronous replication: no acknowledged write lost on either side; the API through another edge`, async () => {
      await healthy();
      const killedBefore = await unhealthyKills();
      const res = await cli(['failover-test', '--scenario', scenario, '--max-outage', '45', '--yes', '--json'], 400_000);
      const r = res.stdout ? JSON.parse(res.stdout) : null;
      expect(res.code, `${res.stderr.slice(-3000)}\n${JSON.stringify(r?.probes)}`).toBe(0);
      expect(r).toMatchObject({ scenario, passed: true, lostWrites: 0, splitBrainSeconds: 0, oldLeaderRejoined: true });
      expect(r.synchronousStandby).toEqual(expect.any(String));
      expect(r.probes.map((p: { side: string; lostWrites: number }) => [p.side, p.lostWrites])).toEqual([['outside', 0], ['colocated', 0]]);
      expect(r.probes[1].acknowledgedWrites).toBeGreaterThan(10);
      // the API, through an edge outside the fault: within 5 s of the write outage (5 s when the leader stays)
      if (scenario !== 'switchover') expect(r.api.edge).not.toBe(r.probes[1].node); // never through the faulted node's edge
      expect(r.api.outageSeconds).toBeLessThanOrEqual(r.api.limitSeconds);
      process.stderr.write(`[e2e] ${scenario}: write outage ${r.writeOutageSeconds} s, API outage ${r.api.outageSeconds} s through ${r.api.edge}\n`);
      // no task outside the fault killed as unhealthy (a check that needs the database fails through every failover: Swarm must wait longer than that)
      expect((await unhealthyKills()).filter((t) => !killedBefore.includes(t) && t.endsWith(` ${r.api.edge}`))).toEqual([]);
      // the node back: every stack service at its replicas again, on both app nodes
      const s = await healthy();
      for (const x of s.stack) expect([...new Set(x.nodes)].sort(), x.service).toEqual(['lab-ash-1', 'lab-hil-1']);
    }, 420_000);
  }

  it('losing every standby keeps writes going (synchronous_mode_strict off), and status says commits are now asynchronous', async () => {
    const leader = (await healthy()).leader as string;
    const replicas = NODES.filter((n) => n.name !== leader);
    const patroni = (how: 'stop' | 'start') => Promise.all(replicas.map((n) => inNode(containerName(n.name), ['docker', how, 'twincigo-patroni-1'])));
    await patroni('stop');
    try {
      const c = await pool.get(config().nodes.find((n) => n.name === leader)!);
      // a commit may wait for the lost standby until Patroni's next loop lets the leader go on alone
      await waitFor('a prompt commit with no standby', async () => {
        const t = Date.now();
        const r = await c.exec(psqlQueryCommand(5000, 'create table if not exists e2e_sync (x int); insert into e2e_sync values (1)'), { timeoutMs: 30_000 });
        return r.code === 0 && Date.now() - t < 2000;
      }, 60_000, 500);
      const st = await status();
      expect(st.code).toBe(3);
      expect(st.out.warnings).toContain('synchronous replication is on, but no member is the synchronous standby: commits are acknowledged asynchronously until one streams again');
    } finally {
      await patroni('start');
    }
    const back = await healthy();
    expect(back.members.filter((m: { role: string }) => m.role === 'sync_standby')).toHaveLength(1);
  }, 300_000);

  it('deploy: a changed PostgreSQL parameter reaches every member, no member restarted', async () => {
    await healthy();
    const text = readFileSync(LAB_PROD_INVENTORY, 'utf8');
    const doc = parse(text);
    doc.environments[ENV].postgres = { parameters: { work_mem: '12MB' } };
    writeFileSync(LAB_PROD_INVENTORY, stringify(doc));
    const started = () => Promise.all(NODES.map(async (n) => (await inNode(containerName(n.name), ['docker', 'inspect', '-f', '{{.State.StartedAt}}', 'twincigo-patroni-1'])).stdout.trim()));
    const before = await started();
    try {
      const res = await cli(['deploy', '--yes'], 600_000);
      expect(res.code, res.stderr.slice(-3000)).toBe(0);
      const conns = await Promise.all(config().nodes.map((n) => pool.get(n)));
      for (const c of conns) expect((await c.run(psqlQueryCommand(5432, 'show work_mem'))).stdout.trim()).toBe('12MB');
      // a reload-level parameter: applied through Patroni's config, no PostgreSQL restarted
      expect(await started()).toEqual(before);
    } finally {
      writeFileSync(LAB_PROD_INVENTORY, text);
    }
  }, 660_000);

  it("node replace under Swarm: an app node's machine and disk destroyed → status says it is gone; replaced at a spare address: three managers again, its old entry removed, every API service back on two nodes", async () => {
    const { leader } = await healthy();
    const name = NODES.find((n) => n.name !== leader && n.name !== hil.name && prodRoles(n.roles).includes('backend'))?.name ?? NODES.find((n) => n.name !== leader && n.name !== hil.name)!.name;
    const image = await destroyNode(name);
    movedNodes.push({ name, image });
    const gone = await waitFor('the node gone', async () => {
      const s = await status();
      return s.out.members.find((m: any) => m.name === name)?.presence === 'gone' ? s : false;
    }, 120_000, 2000);
    expect(gone.out.warnings.join('\n')).toContain(`twincigo node replace ${name}`);
    await startBareNode(name, SPARE_IPS[0]!, image);
    const res = await cli(['node', 'replace', name, '--host', SPARE_IPS[0]!, '--yes', '--json'], 900_000);
    expect(res.code, res.stderr.slice(-3000)).toBe(0);
    const out = JSON.parse(res.stdout);
    process.stderr.write(`[e2e] lab-prod: ${name} replaced under Swarm in ${(out.durationMs / 1000).toFixed(1)} s (cloned with ${out.clonedWith})\n`);
    expect(out.status.healthy).toBe(true);
    const nodes = await inNode(containerName(hil.name), ['docker', 'node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}']);
    expect(nodes.stdout.trim().split('\n').sort()).toEqual(NODES.map((n) => n.name).sort().map((n) => expect.stringMatching(new RegExp(`^${n} Ready (Leader|Reachable)$`))));
    const s = await status();
    for (const svc of s.out.stack) expect(svc.nodes.length, `${svc.service}: ${svc.nodes.join(', ')}`).toBe(2);
    expect(s.out.members.find((m: any) => m.name === name)).toMatchObject({ host: SPARE_IPS[0], presence: 'up' });
  }, 1_000_000);
  it('node add / remove under Swarm: a fourth app node joins as a manager; removed with a backend task on it → drained (the task moved, the API up), demoted, out of the swarm; three managers again, every API service on two nodes', async () => {
    await healthy();
    const name = 'lab-fsn-1';
    const ip = SPARE_IPS[2]!;
    const doc = parse(readFileSync(LAB_PROD_INVENTORY, 'utf8'));
    doc.environments[ENV].nodes.push({ name, host: ip, roles: ['patroni', 'haproxy', 'supabase', 'backend'] });
    writeFileSync(LAB_PROD_INVENTORY, stringify(doc));
    extraNodes.push(name);
    await startBareNode(name, ip, (await sh('docker', ['inspect', '-f', '{{.Config.Image}}', containerName(hil.name)])).stdout.trim());
    const add = await cli(['node', 'add', name, '--yes', '--json'], 900_000);
    expect(add.code, add.stderr.slice(-3000)).toBe(0);
    process.stderr.write(`[e2e] lab-prod: ${name} added under Swarm in ${(JSON.parse(add.stdout).durationMs / 1000).toFixed(1)} s\n`);
    const managers = async () => (await inNode(containerName(hil.name), ['docker', 'node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'])).stdout.trim().split('\n').sort();
    expect(await managers()).toEqual([...NODES.map((n) => n.name), name].sort().map((n) => expect.stringMatching(new RegExp(`^${n} Ready (Leader|Reachable)$`))));
    // a third backend replica: Swarm puts it where the service has none — the new node
    await inNode(containerName(hil.name), ['docker', 'service', 'scale', '--detach', 'twincigo-app_backend=3']);
    await waitFor(`a backend task on ${name}`, async () => (await inNode(containerName(name), ['docker', 'ps', '-q', '--filter', 'label=com.docker.swarm.service.name=twincigo-app_backend'])).stdout.trim() !== '', 120_000, 1000);

    const probe = edgeProbe();
    probe.start();
    const rm = await cli(['node', 'remove', name, '--yes', '--json'], 600_000);
    await probe.stop();
    expect(rm.code, rm.stderr.slice(-3000)).toBe(0);
    const api = probe.summary();
    process.stderr.write(`[e2e] lab-prod: ${name} removed under Swarm in ${(JSON.parse(rm.stdout).durationMs / 1000).toFixed(1)} s; API longest outage ${api.outageSeconds.toFixed(1)} s, ${api.failed} failed of ${api.attempts}\n`);
    expect(parse(readFileSync(LAB_PROD_INVENTORY, 'utf8')).environments[ENV].nodes.map((n: any) => n.name)).not.toContain(name);
    expect(await managers()).toEqual(NODES.map((n) => n.name).sort().map((n) => expect.stringMatching(new RegExp(`^${n} Ready (Leader|Reachable)$`))));
    expect((await inNode(containerName(name), ['docker', 'info', '-f', '{{.Swarm.LocalNodeState}}'])).stdout.trim()).toBe('inactive');
    expect((await inNode(containerName(name), ['docker', 'ps', '-q'])).stdout.trim()).toBe('');
    const s = await status();
    expect(s.code, JSON.stringify(s.out.warnings)).toBe(0);
    // the stack deployed again without the node: back at its replicas, each on two nodes
    for (const svc of s.out.stack) expect(svc.nodes.length, `${svc.service}: ${svc.nodes.join(', ')}`).toBe(2);
    expect(s.out.stack.flatMap((svc: any) => svc.nodes)).not.toContain(name);
    expect(api.outageSeconds, JSON.stringify(api.paths)).toBeLessThanOrEqual(5);
  }, 1_600_000);
});
