import type { EnvValues } from '../config/env-file.js';
import type { EnvironmentConfig, NodeConfig } from '../config/model.js';
import { ConfigError } from '../errors.js';
import { envProblems } from '../secrets/check.js';
import { renderAll, type NodeBundle, type RenderOptions } from '../stack/bundle.js';

/**
 * What render, bootstrap and deploy upload, rendered only when nothing is wrong: missing keys,
 * placeholder and weak secrets (they never reach a node), API keys not signed with JWT_SECRET
 * (every request would fail with "JWSInvalidSignature"), in prod images not pinned by digest, and
 * over-committed nodes — all at once,
 * exit 2, before any output or connection.
 */
export function renderGated(env: EnvironmentConfig, nodes: NodeConfig[], values: EnvValues, opts: RenderOptions = {}): NodeBundle[] {
  // prod also refuses an image not pinned by digest (dev only warns, in env check)
  const refusedKinds = ['invalid', 'placeholder', 'weak', ...(env.profile === 'prod' ? ['unpinned'] : [])];
  const found = envProblems(env, values, nodes);
  const refused = found.filter((x) => refusedKinds.includes(x.kind)).map((p) => p.message);
  const { bundles, problems } = renderAll(env, nodes, values, opts);
  const missing = [...problems.filter((p) => / is missing — /.test(p)), ...found.filter((x) => x.kind === 'missing' && x.key === 'ALERT_WEBHOOK_URL').map((x) => x.message)];
  const resources = problems.filter((p) => !missing.includes(p));
  const all = [...missing, ...refused, ...resources];
  if (all.length > 0) throw new ConfigError(`environment ${env.name} (${values.file})`, all);
  return bundles;
}
