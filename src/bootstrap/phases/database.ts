import type { NodeConfig } from '../../config/model.js';
import type { Phase } from '../../engine/types.js';
import { psqlViaHaproxy } from '../../cluster/psql.js';
import { supabaseSql } from '../../stack/supabase-sql.js';
import { isConverged, type BootstrapRun } from '../bootstrap-run.js';
import { conn } from '../steps.js';
import { firstLeader } from './patroni.js';

/** 8. Supabase's roles, schemas and grants: idempotent SQL through HAProxy :5000. */
export function databasePhase(run: BootstrapRun): Phase<NodeConfig>[] {
  return [{
    title: 'Database: Supabase roles, schemas, grants',
    then: [{
      title: 'idempotent SQL through HAProxy :5000',
      timeoutMs: 150_000,
      skip: () => (run.env.nodes.every((n) => isConverged(run, n)) ? 'every node converged: applied by an earlier run' : false),
      run: async ({ log }) => {
        const c = await conn(run, firstLeader(run));
        const v = run.values.values;
        const res = await psqlViaHaproxy(c, supabaseSql({ postgresPassword: v.POSTGRES_PASSWORD!, backendPassword: v.BACKEND_DB_PASSWORD!, jwtExpiry: v.JWT_EXPIRY }));
        for (const n of res.notices) log(n);
        return res.notices.length > 0 ? `applied (${res.notices.length} notices)` : 'applied';
      },
    }],
  }];
}
