import type { NodeLike, Plan } from './types.js';

/** A plan as text, phases × nodes × steps, for --dry-run: nothing runs and no node is contacted. */
export function outline<N extends NodeLike>(plan: Plan<N>, nodes: N[], startAt = 1): string[] {
  const lines: string[] = [];
  plan.phases.forEach((phase, i) => {
    lines.push(`${startAt + i}. ${phase.title}${phase.serial ? ' (one node at a time)' : ''}`);
    const on = phase.nodes ?? nodes;
    for (const node of on) {
      const steps = (phase.steps ?? []).filter((s) => !s.when || s.when(node)).map((s) => s.title);
      if (steps.length > 0) lines.push(`   ${node.name}: ${steps.join(' → ')}`);
    }
    for (const once of phase.then ?? []) lines.push(`   then: ${once.title}`);
  });
  return lines;
}
