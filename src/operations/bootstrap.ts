import { bootstrapPlan } from '../bootstrap/plan.js';
import { preflightPlan } from '../bootstrap/preflight-plan.js';
import { dryRunText } from '../bootstrap/report.js';
import { runBootstrap } from '../bootstrap/orchestrate.js';
import type { BootstrapOptions } from '../bootstrap/bootstrap-run.js';
import { EXIT, UsageError } from '../errors.js';
import { renderGated } from './gate.js';
import { operate } from '../session/operation.js';
import { requireEnvFile, type Session } from '../session/session.js';

export interface BootstrapFlags extends BootstrapOptions {
  dryRun: boolean;
  lockWaitSec: number;
}

/** `twincigo bootstrap`: from bare nodes to a healthy cluster; a second run changes nothing. */
export async function bootstrap(ctx: Session, flags: BootstrapFlags): Promise<number> {
  requireEnvFile(ctx);
  const env = ctx.config.env;
  if (ctx.options.nodes) throw new UsageError('bootstrap sets up the whole environment: drop --nodes', ['to check some nodes only: twincigo status --nodes …']);
  // everything is rendered and validated before any node is contacted
  const bundles = renderGated(env, env.nodes, ctx.values);
  if (flags.dryRun) {
    const stub = { env, values: ctx.values, bundles: new Map(bundles.map((b) => [b.node, b])), options: flags, existing: { leader: null, etcd: false }, converged: new Set() } as never;
    ctx.ui.json({ environment: env.name, dryRun: true, bundles: bundles.map((b) => ({ node: b.node, files: b.files.map((f) => ({ path: f.path, mode: f.mode, bytes: Buffer.byteLength(f.content), secret: f.secret })) })) });
    ctx.ui.print(dryRunText(env, [preflightPlan(stub, []), bootstrapPlan(stub)], bundles, flags.firewall));
    return EXIT.ok;
  }
  return operate(ctx, (op) => runBootstrap(op, bundles, flags), { guard: `bootstrap changes every node of ${env.name}.` });
}
