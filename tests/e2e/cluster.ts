/**
 * The lab cluster for e2e tests: twincigo's rendered bundles uploaded to the lab nodes and the core
 * HA stack (etcd, Patroni, HAProxy) brought up with compose. Until bootstrap exists, this is how a
 * test gets a running cluster; it uses the product's renderer, uploader and compose commands —
 * from dist/ (built by pretest), so benchmarks run it with plain node too.
 */
import { readEnvFile } from '../../dist/config/env-file.js';
import { compose as composeCmd } from '../../dist/remote/compose.js';
import { and, root, run } from '../../dist/remote/shell.js';
import type { SshConnection } from '../../dist/ssh/connection.js';
import { upload } from '../../dist/ssh/upload.js';
import type { NodeBundle } from '../../dist/stack/bundle.js';
import { renderGated as renderEnvironment } from '../../dist/operations/gate.js';
import { supabaseSql } from '../../dist/stack/supabase-sql.js';
import { stanzaSetupCommand } from '../../dist/remote/pgbackrest.js';
import { psqlViaHaproxy } from '../../dist/cluster/psql.js';
import { patroniMembers } from '../../dist/cluster/patroni.js';
import { haproxyRoutesToLeader } from '../../dist/cluster/health.js';
import { steadily, waitUntil } from '../../dist/cluster/wait.js';
import { waitFor } from '../lab/run.ts';
import { wipeStack } from '../lab/faults.ts';
import { labConfig, labPool } from './helpers.ts';

export interface Member { name: string; role: string; state: string; host: string; timeline?: number; lag?: number }

export class LabCluster {
  readonly config = labConfig();
  readonly pool = labPool();
  readonly base = this.config.env.baseDir;
  conns: SshConnection[] = [];
  bundles: NodeBundle[] = [];
  readonly values = readEnvFile(this.config.env.envFile);

  compose(i: number, ...args: string[]) {
    return composeCmd(this.base, this.bundles[i]!.composeFiles, ...args);
  }

  sql(i: number, port: number, query: string) {
    const pw = this.values.values.POSTGRES_PASSWORD!;
    return this.compose(i, 'exec', '-T', '-e', `PGPASSWORD=${pw}`, 'patroni', 'psql', `host=127.0.0.1 port=${port} user=postgres dbname=postgres connect_timeout=3`, '-Atc', query);
  }

  /** Node i's connection, reopened when a test restarted the node (lab.conns holds the ones upload() opened). */
  conn(i: number): Promise<SshConnection> {
    return this.pool.get(this.config.nodes[i]!);
  }

  /** A query on node i through `compose exec` (the transport sends an exec runc could not start once more). */
  async query(i: number, port: number, query: string): Promise<string> {
    const res = await (await this.conn(i)).exec(this.sql(i, port, query));
    if (res.code !== 0) throw new Error(`node ${i}: ${query} exited ${res.code}: ${res.stderr.trim()}`);
    return res.stdout.trim();
  }

  async members(conn: SshConnection): Promise<Member[]> {
    return (await patroniMembers(conn)) as Member[];
  }

  static healthy(ms: Member[]): boolean {
    return ms.length === 3 && ms.filter((m) => m.role === 'leader' && m.state === 'running').length === 1 && ms.filter((m) => m.role === 'replica' && m.state === 'streaming').length === 2;
  }

  /** Renders every node's bundle and uploads it to the node's base dir. */
  async upload(): Promise<void> {
    this.bundles = renderEnvironment(this.config.env, this.config.nodes, this.values);
    this.conns = await Promise.all(this.config.nodes.map((n) => this.pool.get(n)));
    await Promise.all(this.bundles.map((b, i) => upload(this.conns[i]!, b.files.map((f) => ({ remotePath: `${this.base}/${f.path}`, content: f.content, mode: f.mode })))));
  }

  async up(service: string): Promise<void> {
    await Promise.all(this.conns.map((c, i) => c.run(this.compose(i, 'up', '-d', service), { timeoutMs: 180_000 })));
  }

  async etcdHealthy(timeoutMs = 60_000): Promise<string> {
    return waitFor('etcd endpoint health', async () => {
      const res = await this.conns[0]!.exec(this.compose(0, 'exec', '-T', 'etcd', 'etcdctl', 'endpoint', 'health', '--cluster'));
      return res.code === 0 && (res.stdout.match(/is healthy/g) ?? []).length === 3 ? res.stdout : false;
    }, timeoutMs, 500);
  }

  async patroniHealthy(from = 0, timeoutMs = 120_000): Promise<Member[]> {
    return waitFor('leader + 2 streaming replicas', async () => {
      const m = await this.members(this.conns[from]!);
      return LabCluster.healthy(m) ? m : false;
    }, timeoutMs, 1000);
  }

  /**
   * The whole core stack, each step health-gated. A cluster an earlier test file left running is
   * reused (compose changes nothing that runs as rendered) — much faster than a fresh initdb and
   * base backups; one that is not healthy within a short wait is wiped and built fresh.
   */
  async upCore(): Promise<void> {
    await this.upload();
    const running = (await this.conns[0]!.exec(run('docker', 'ps', '-q', '--filter', 'name=twincigo-patroni-1'))).stdout.trim() !== '';
    try {
      await this.upCoreOnce(running ? 30_000 : undefined);
    } catch (err) {
      if (!running) throw err;
      process.stderr.write(`[e2e] the cluster left running is not healthy (${String(err).split('\n')[0]}): wiping it\n`);
      await wipeStack();
      await this.upload();
      await this.upCoreOnce();
    }
  }

  private async upCoreOnce(timeoutMs?: number): Promise<void> {
    await this.up('etcd');
    await this.etcdHealthy(timeoutMs);
    await this.up('patroni');
    await this.patroniHealthy(0, timeoutMs);
    await this.up('haproxy');
  }

  /** Every service of every node (Supabase stand-ins, backend, Redis, monitoring) on top of the core, health-gated. */
  async upAll(): Promise<void> {
    await this.upCore();
    // steadily: a HAProxy just started routes to any server until its first checks have run
    await waitUntil('HAProxy :5000 to reach the leader', steadily(() => haproxyRoutesToLeader(this.conns[0]!), 3000), { timeoutMs: 60_000, intervalMs: 500 });
    await psqlViaHaproxy(this.conns[0]!, supabaseSql({ postgresPassword: this.values.values.POSTGRES_PASSWORD!, backendPassword: this.values.values.BACKEND_DB_PASSWORD! }));
    await Promise.all(this.conns.map((c, i) => c.run(this.compose(i, 'up', '-d', '--wait', '--wait-timeout', '120'), { timeoutMs: 240_000 })));
    // as bootstrap does: the stanza, archiving checked, a first full backup (else status is degraded)
    const repo = this.config.nodes.findIndex((n) => n.roles.includes('backup'));
    if (repo >= 0) await this.conns[repo]!.run(stanzaSetupCommand(), { timeoutMs: 240_000 });
  }

  /** The end of a test file: its connections close, the stack keeps running for the next file (the run's end removes the lab). */
  async release(): Promise<void> {
    await this.pool.closeAll();
  }

  /** Everything removed: containers, volumes, files (benchmarks end with it). */
  async teardown(): Promise<void> {
    // a node killed by a test has a new connection (the pool reopens closed ones)
    this.conns = await Promise.all(this.config.nodes.map((n) => this.pool.get(n)));
    await Promise.all(this.conns.map((c, i) => c.exec(and(this.compose(i, 'down', '-v', '--timeout', '5'), root('rm', '-rf', this.base)), { timeoutMs: 120_000 })));
    await this.pool.closeAll();
  }
}
