import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readInventory, resolveEnvironment } from '../../src/config/load.js';
import { alloyConfig } from '../../src/stack/alloy-config.js';
import { servicesFor } from '../../src/stack/compose-files.js';
import { checkAlloy, parseAlloy } from '../helpers/alloy-syntax.js';
import { REPO } from '../helpers/cli.js';
import { validInventory, writeInventory } from '../helpers/inventory.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Log shipping: the agent's config (Alloy's syntax, checked by tests/helpers/alloy-syntax.ts) and
 * Loki's (its documented configuration blocks). Neither runs offline; the lab's stand-ins read
 * the same files, and tests/e2e/logs.test.ts finds the lines in Loki.
 */
function env(doc = validInventory()) {
  const tmp = tempDir();
  try {
    return resolveEnvironment(readInventory(writeInventory(tmp.dir, doc)), 'dev');
  } finally {
    tmp.cleanup();
  }
}

describe('the log agent on every node', () => {
  it('every node carries the implied role "logs" while the environment has monitoring; none without it', () => {
    expect(env().nodes.map((n) => n.roles.includes('logs'))).toEqual([true, true, true]);
    const doc = validInventory();
    doc.environments.dev.nodes[2].roles = ['etcd', 'patroni', 'haproxy', 'backup'];
    doc.environments.dev.skipRoles = ['monitoring'];
    expect(env(doc).nodes.some((n) => n.roles.includes('logs'))).toBe(false);
    expect(servicesFor(['logs'], { profile: 'dev' })).toEqual(['alloy']);
    expect(servicesFor(['logs'], { profile: 'prod' })).toEqual(['alloy']);
  });

  it("each node's config parses, names only real arguments and exports, labels node/env and pushes to the monitoring node's Loki", () => {
    const e = env();
    for (const node of e.nodes) {
      const text = alloyConfig(e, node);
      const root = parseAlloy(text);
      expect(checkAlloy(root), text).toEqual([]);
      const source = root.blocks.find((b) => b.name === 'loki.source.docker')!;
      expect(source.attrs.labels).toEqual({ env: 'dev', node: node.name });
      const write = root.blocks.find((b) => b.name === 'loki.write')!;
      expect(write.blocks[0]!.attrs.url).toBe('http://10.0.0.3:3100/loki/api/v1/push');
      const filter = root.blocks.find((b) => b.name === 'discovery.docker')!.blocks[0]!;
      expect(filter.attrs).toEqual({ name: 'label', values: ['com.docker.compose.project=twincigo'] });
      const rules = root.blocks.find((b) => b.name === 'discovery.relabel')!.blocks.map((r) => r.attrs.target_label);
      expect(rules).toEqual(['service', 'container', 'stream']);
    }
  });

  it('the checker refuses what Alloy would refuse (so the test above can fail)', () => {
    const ok = alloyConfig(env(), env().nodes[0]!);
    expect(checkAlloy(parseAlloy(ok.replace('forward_to    =', 'forward_too   =')))).toEqual(
      expect.arrayContaining(['loki.source.docker "twincigo": unknown argument "forward_too"', 'loki.source.docker "twincigo": missing required argument "forward_to"']),
    );
    expect(checkAlloy(parseAlloy(ok.replace('loki.write.loki.receiver', 'loki.write.lokii.receiver')))).toEqual(['reference to an undeclared component: loki.write.lokii.receiver']);
    expect(checkAlloy(parseAlloy(ok.replace('.rules', '.rulez')))).toEqual(['discovery.relabel.twincigo exports no "rulez"']);
    expect(() => parseAlloy(ok.replace(/}\s*$/, ''))).toThrow(/end of file/);
    expect(() => parseAlloy(ok.replace('url =', 'url :'))).toThrow(/unexpected character/);
  });
});

describe("Loki's config", () => {
  const text = readFileSync(`${REPO}compose/config/loki.yml`, 'utf8');
  const doc = parse(text) as Record<string, any>;
  // the top-level blocks of Loki 3's configuration reference
  const LOKI_BLOCKS = [
    'target', 'auth_enabled', 'ballast_bytes', 'server', 'distributor', 'querier', 'query_scheduler', 'frontend', 'query_range', 'ruler',
    'ingester_client', 'ingester', 'pattern_ingester', 'index_gateway', 'bloom_build', 'bloom_gateway', 'storage_config', 'chunk_store_config',
    'schema_config', 'compactor', 'limits_config', 'frontend_worker', 'table_manager', 'memberlist', 'runtime_config', 'operational_config',
    'tracing', 'analytics', 'common', 'shutdown_delay', 'metrics_namespace',
  ];

  it('uses only Loki 3 blocks, listens where the compose file publishes, and keeps logs 14 days', () => {
    expect(Object.keys(doc).filter((k) => !LOKI_BLOCKS.includes(k))).toEqual([]);
    expect(doc.server.http_listen_port).toBe(3100);
    expect(readFileSync(`${REPO}compose/monitoring.yml`, 'utf8')).toContain('"${NODE_IP}:3100:3100"');
    expect(doc.auth_enabled).toBe(false);
    // retention needs the compactor with a delete-request store (Loki 3 refuses to start otherwise)
    expect(doc.compactor).toMatchObject({ retention_enabled: true, delete_request_store: 'filesystem' });
    expect(doc.limits_config.retention_period).toBe('336h');
    // tsdb + v13: the schema Loki 3 requires for structured metadata
    expect(doc.schema_config.configs[0]).toMatchObject({ store: 'tsdb', schema: 'v13', object_store: 'filesystem' });
    expect(doc.common.path_prefix).toBe('/loki');
  });
});
