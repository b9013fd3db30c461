/**
 * npm run lab:up [-- --prod] | lab:down [-- --purge] | lab:status [-- --json]
 * Runs on Node >= 23 (types stripped); the npm scripts use the project's Node 24.
 */
import { labDown, labStatus, labUp } from './lab.ts';

const started = performance.now();
const log = (line: string) => process.stderr.write(`[lab ${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
const [cmd, ...args] = process.argv.slice(2);

try {
  if (cmd === 'up') {
    const state = await labUp(log, { prod: args.includes('--prod') });
    log(`lab is up in ${((performance.now() - started) / 1000).toFixed(1)}s: ${state.nodes.map((n) => `${n.name} (${n.ip})`).join(', ')}`);
    log(`try: npx twincigo config --env lab${state.prod ? ' (or --env lab-prod: the prod profile on its own three nodes)' : ''}`);
  } else if (cmd === 'down') {
    await labDown(log, { purge: args.includes('--purge') });
    log(`lab removed${args.includes('--purge') ? ' (images and cache too)' : ' (images and the registry cache kept; --purge removes them)'}`);
  } else if (cmd === 'status') {
    const s = await labStatus();
    if (args.includes('--json')) console.log(JSON.stringify(s, null, 2));
    else {
      console.log(`lab ${s.up ? 'up' : 'not up'} · registry ${s.registry}`);
      for (const n of s.nodes) {
        console.log(`${n.container.padEnd(24)} ${n.ip.padEnd(13)} ${n.state.padEnd(8)} dockerd ${n.dockerd ? 'ok' : '-'}  ${n.containers.length} container(s)`);
        for (const c of n.containers) console.log(`    ${c}`);
      }
    }
    process.exitCode = s.up ? 0 : 3;
  } else {
    console.error('usage: node tests/lab/cli.ts up [--prod] | down [--purge] | status [--json]');
    process.exitCode = 2;
  }
} catch (err) {
  log(`error: ${(err as Error).message}`);
  process.exitCode = 1;
}
