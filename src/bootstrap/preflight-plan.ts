import type { NodeConfig } from '../config/model.js';
import type { Plan } from '../engine/types.js';
import { clockOffsetMs } from '../cluster/clock.js';
import { TwincigoError } from '../errors.js';
import { bundleDigest } from '../stack/bundle.js';
import { servicesFor } from '../stack/compose-files.js';
import { serviceLimits } from '../stack/resources.js';
import { bundleOf, type BootstrapRun } from './bootstrap-run.js';
import { evaluate, existingCluster, needsDocker, type Finding } from './preflight.js';
import { parsePreflight, preflightCommand } from './preflight-probe.js';
import { conn, type Ctx } from './steps.js';

/** Phase 1: read-only facts from every node, judged together. Nothing is changed. */
export function preflightPlan(run: BootstrapRun, findings: Finding[]): Plan<NodeConfig> {
  const peersOf = (node: NodeConfig) =>
    run.env.nodes.filter((n) => n.name !== node.name).map((n) => ({ name: n.name, address: n.privateAddress, sshPort: run.pool.target(n).port }));
  return {
    title: `bootstrap ${run.env.name}: preflight`,
    phases: [
      {
        title: 'Preflight',
        steps: [
          {
            title: 'SSH, sudo, OS, resources, Docker, ports, clock, peers',
            timeoutMs: 30_000,
            run: async ({ node }: Ctx) => {
              const c = await conn(run, node);
              const facts = parsePreflight((await c.run(preflightCommand(run.env.baseDir, peersOf(node)), { timeoutMs: 25_000 })).stdout);
              run.facts.set(node.name, { facts, skewMs: (await clockOffsetMs(c)).offsetMs });
              return `${facts.os?.id ?? '?'} ${facts.os?.version ?? ''}, ${facts.cpus} CPUs, ${Math.round((facts.memMiB ?? 0) / 1024)} GiB, Docker ${facts.docker ?? 'missing'}${facts.compose2 ? `, compose ${facts.compose2}` : ''}`;
            },
          },
        ],
        then: [
          {
            title: 'judge the cluster as a whole',
            run: async () => {
              const inputs = run.env.nodes.map((node) => {
                const f = run.facts.get(node.name)!;
                const b = bundleOf(run, node);
                return { node, facts: f.facts, skewMs: f.skewMs, limits: serviceLimits(b.files.filter((x) => b.composeFiles.includes(x.path))) };
              });
              findings.push(...evaluate(run.env, inputs));
              run.existing = existingCluster(inputs.map((i) => i.facts));
              for (const { node, facts } of inputs) {
                const services = servicesFor(node.roles, run.env);
                if (facts.appliedDigest === bundleDigest(bundleOf(run, node)) && services.every((svc) => facts.ours.get(svc) === 'running')) run.converged.add(node.name);
              }
              const errors = findings.filter((f) => f.level === 'error');
              const warnings = findings.length - errors.length;
              if (errors.length > 0) throw new TwincigoError(`${errors.length} problem${errors.length === 1 ? '' : 's'} found (marked ✖); nothing was changed`);
              const noDocker = run.env.nodes.filter((n) => needsDocker(run.facts.get(n.name)!.facts)).map((n) => n.name);
              const state = run.existing.leader
                ? `cluster exists (leader ${run.existing.leader}, ${run.converged.size} of ${run.env.nodes.length} nodes converged)`
                : run.existing.etcd ? 'etcd has data' : 'new cluster';
              return [warnings ? `${warnings} warning${warnings === 1 ? '' : 's'}` : 'all checks passed', state, noDocker.length ? `Docker/compose v2 missing on ${noDocker.join(', ')}` : '']
                .filter(Boolean)
                .join('; ');
            },
          },
        ],
      },
    ],
  };
}
