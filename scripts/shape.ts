/**
 * The shape of src/, as issue 12 counts it: imports that climb into src/cli, import cycles, the
 * longest functions, main.ts's length. `node scripts/shape.ts [--json]`; tests/unit/shape.test.ts
 * holds the limits.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
// TypeScript 7 has no JS compiler API: the TS parser of rolldown (vitest's bundler, oxc inside)
import { parseAst } from 'rolldown/parseAst';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

export interface Shape {
  files: number;
  lines: number;
  upwardImports: string[];
  cycles: string[][];
  longestFunctions: Array<{ where: string; lines: number }>;
  mainLines: number;
}

export function measure(): Shape {
  const all = files(SRC);
  const graph = new Map<string, string[]>();
  const upward: string[] = [];
  const functions: Array<{ where: string; lines: number }> = [];
  let lines = 0;
  for (const f of all) {
    const text = readFileSync(f, 'utf8');
    lines += text.split('\n').length;
    const lineOf = (pos: number) => text.slice(0, pos).split('\n').length;
    const deps: string[] = [];
    const from = relative(SRC, f);
    const visit = (node: any, parent: any) => {
      if (!node || typeof node.type !== 'string') return;
      // static imports and re-exports only: a lazy import() inside the CLI is how it stays fast
      if ((node.type === 'ImportDeclaration' || node.type === 'ExportNamedDeclaration' || node.type === 'ExportAllDeclaration') && node.source?.value?.startsWith('.')) {
        const target = resolve(dirname(f), String(node.source.value).replace(/\.js$/, '.ts'));
        deps.push(target); // a type-only import is a dependency too (it names the other module)
        const to = relative(SRC, target);
        if (!from.startsWith('cli/') && to.startsWith('cli/')) upward.push(`${from} → ${to}`);
      }
      if (['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression'].includes(node.type) && node.body) {
        const first = lineOf(node.start);
        const name = node.id?.name ?? (parent?.type === 'VariableDeclarator' ? parent.id?.name : parent?.type === 'MethodDefinition' || parent?.type === 'Property' ? parent.key?.name : undefined) ?? '(anonymous)';
        functions.push({ where: `${from}:${first} ${name}`, lines: lineOf(node.end) - first + 1 });
      }
      for (const key of Object.keys(node)) {
        const v = node[key];
        if (Array.isArray(v)) for (const c of v) visit(c, node);
        else if (v && typeof v === 'object' && typeof v.type === 'string') visit(v, node);
      }
    };
    visit(parseAst(text, { lang: 'ts' }, f), null);
    graph.set(f, deps);
  }
  return { files: all.length, lines, upwardImports: upward, cycles: cycles(graph).map((c) => c.map((f) => relative(SRC, f))), longestFunctions: functions.sort((a, b) => b.lines - a.lines).slice(0, 10), mainLines: readFileSync(join(SRC, 'cli', 'main.ts'), 'utf8').split('\n').length };
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = measure();
  if (process.argv.includes('--json')) console.log(JSON.stringify(s, null, 2));
  else {
    console.log(`src: ${s.files} files, ${s.lines} lines; main.ts ${s.mainLines} lines`);
    console.log(`upward imports into src/cli: ${s.upwardImports.length}${s.upwardImports.map((u) => `\n  ${u}`).join('')}`);
    console.log(`import cycles: ${s.cycles.length}${s.cycles.map((c) => `\n  ${c.join(' ↔ ')}`).join('')}`);
    console.log(`longest functions:${s.longestFunctions.map((f) => `\n  ${String(f.lines).padStart(4)}  ${f.where}`).join('')}`);
  }
}
