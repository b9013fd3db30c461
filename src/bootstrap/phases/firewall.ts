import type { NodeConfig } from '../../config/model.js';
import type { Phase } from '../../engine/types.js';
import { upload } from '../../ssh/upload.js';
import { noteChange, type BootstrapRun } from '../bootstrap-run.js';
import { applyFirewallCommand, firewallPlan, firewallScriptPath } from '../firewall.js';
import { conn, type Ctx } from '../steps.js';

/** 2. The TWINCIGO chains: from outside the cluster only SSH and the node's public ports (skipped with --no-firewall). */
export function firewallPhase(run: BootstrapRun): Phase<NodeConfig>[] {
  if (!run.options.firewall) return [];
  const base = run.env.baseDir;
  return [{
    title: 'Firewall',
    steps: [{
      title: 'from outside the cluster only SSH and the public ports',
      timeoutMs: 60_000,
      run: async ({ node }: Ctx) => {
        const c = await conn(run, node);
        const fw = firewallPlan(run.env, node);
        const [up] = await upload(c, [{ remotePath: firewallScriptPath(base), content: fw.script, mode: 0o700 }]);
        const res = await c.run(applyFirewallCommand(base));
        if (up!.action !== 'unchanged') noteChange(run, node.name, { kind: 'firewall' });
        const persisted = res.stdout.includes('not-persistent') ? 'not persistent (no systemd)' : 'persistent';
        return `public tcp ${fw.publicPorts.join(',')}, the rest from ${fw.allowed.length} nodes only; ${up!.action === 'unchanged' ? 'unchanged' : 'applied'}, ${persisted}`;
      },
    }],
  }];
}
