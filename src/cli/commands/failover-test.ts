import { UsageError } from '../../errors.js';
import { defineCommand, lockWaitOption } from '../define.js';
import { session } from '../action.js';

export const failoverTestCommand = defineCommand({
  name: 'failover-test',
  description: 'a measured drill: break the leader on purpose, measure write/read outage and lost writes, restore; exit 0 passed, 1 failed',
  options: [
    { flags: '-s, --scenario <name>', description: 'kill-leader | stop-leader | switchover | node-down | partition | replica-loss | app-node-down (Swarm: a node without the leader lost; the API measured through another edge)', default: 'kill-leader' },
    { flags: '--runs <n>', description: 'repeat and report the median', default: '1' },
    { flags: '--max-outage <seconds>', description: "fail above this write outage (default: the scenario's goal)" },
    { flags: '--timeout <seconds>', description: 'hard limit per run; what was broken is restored', default: '400' },
    lockWaitOption(),
  ],
  examples: ['twincigo failover-test --env dev', 'twincigo failover-test --env dev --scenario partition --runs 3', 'twincigo failover-test --env dev --json --max-outage 30   # scheduled CI'],
  exits: ['1'],
  run: async (g, _args, opts: { scenario: string; runs: string; maxOutage?: string; timeout: string; lockWait: string }) => {
    const { SCENARIOS } = await import('../../failover/scenarios.js');
    if (!(SCENARIOS as readonly string[]).includes(opts.scenario)) throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}`);
    const runs = Number(opts.runs);
    if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs takes a whole number ≥ 1');
    const max = opts.maxOutage === undefined ? undefined : Number(opts.maxOutage);
    if (max !== undefined && !(max >= 0)) throw new UsageError('--max-outage takes a number of seconds');
    const timeout = Number(opts.timeout);
    const wait = Number(opts.lockWait);
    if (!(timeout > 0) || !(wait >= 0)) throw new UsageError('--timeout and --lock-wait take seconds');
    const { failoverTest } = await import('../../operations/failover-test.js');
    return failoverTest(await session(g), { scenario: opts.scenario as never, runs, maxOutageSeconds: max, timeoutSec: timeout, lockWaitSec: wait });
  },
});
