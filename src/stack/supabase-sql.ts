/**
 * Supabase's database side on a Patroni-initialised cluster: what the supabase/postgres image's own
 * init scripts would have set up (Patroni's initdb runs none of them) — roles, schemas, grants,
 * default privileges, search paths, the realtime publication, the GraphQL entry point, the event
 * triggers that grant access to pg_cron/pg_net/pg_graphql when they are enabled, and the
 * extensions, each created where its control file says. Idempotent: created when missing,
 * passwords/grants/settings set every time. Run on the leader by bootstrap (and on every re-run:
 * it converges). Optional extensions the image lacks are skipped with a WARNING naming them.
 */
import { apiSql, extensionsSql } from './supabase-sql-api.js';

/** A SQL string literal. */
export function literal(value: string): string {
  if (value.includes('\0')) throw new Error('a NUL byte cannot be part of a SQL literal');
  return `'${value.replace(/'/g, "''")}'`;
}

/** The API roles: what PostgREST, realtime and storage switch to per request. */
const API_ROLES = 'anon, authenticated, service_role';

const ROLES: Array<[string, string]> = [
  ['anon', 'NOLOGIN NOINHERIT'],
  ['authenticated', 'NOLOGIN NOINHERIT'],
  ['service_role', 'NOLOGIN NOINHERIT BYPASSRLS'],
  ['authenticator', 'LOGIN NOINHERIT'],
  ['supabase_admin', 'LOGIN SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS'],
  ['supabase_auth_admin', 'LOGIN NOINHERIT CREATEROLE'],
  ['supabase_storage_admin', 'LOGIN NOINHERIT CREATEROLE'],
  ['supabase_functions_admin', 'LOGIN NOINHERIT CREATEROLE NOREPLICATION'],
  // no password: they exist for the tools that expect them; nothing logs in as them until one is set
  ['supabase_replication_admin', 'LOGIN REPLICATION'],
  ['supabase_read_only_user', 'LOGIN BYPASSRLS'],
  ['dashboard_user', 'NOLOGIN CREATEDB CREATEROLE REPLICATION'],
  ['backend', 'LOGIN NOINHERIT'],
];
/** The services' logins: the image's docker set-up gives them POSTGRES_PASSWORD, and so do we. */
const SERVICE_LOGINS = ['authenticator', 'supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin', 'supabase_functions_admin'];

export interface SupabaseSqlInput {
  postgresPassword: string;
  backendPassword: string;
  /** JWT_EXPIRY (seconds): app.settings.jwt_exp, as the image's set-up stores it. */
  jwtExpiry?: string;
}

function rolesSql(input: SupabaseSqlInput): string {
  const create = ROLES.map(([name, attrs]) => `  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${name}') THEN CREATE ROLE ${name} ${attrs}; END IF;`).join('\n');
  return `DO $$
BEGIN
${create}
END
$$;
${SERVICE_LOGINS.map((r) => `ALTER ROLE ${r} WITH PASSWORD ${literal(input.postgresPassword)};`).join('\n')}
ALTER ROLE backend WITH PASSWORD ${literal(input.backendPassword)};
GRANT ${API_ROLES} TO authenticator;
GRANT ${API_ROLES} TO supabase_storage_admin;
GRANT pg_read_all_data TO supabase_read_only_user;
-- search paths: extensions' types and functions (vector, uuid_generate_v4) work unqualified
ALTER ROLE postgres SET search_path TO "$user", public, extensions;
ALTER ROLE supabase_admin SET search_path TO "$user", public, auth, extensions;
ALTER ROLE authenticator SET search_path TO "$user", public, extensions;
ALTER ROLE backend SET search_path TO "$user", public, extensions;
ALTER ROLE supabase_auth_admin SET search_path = auth;
ALTER ROLE supabase_storage_admin SET search_path = storage;
ALTER ROLE authenticator SET statement_timeout = '8s';
ALTER ROLE anon SET statement_timeout = '3s';
ALTER ROLE authenticated SET statement_timeout = '8s';`;
}

function schemasSql(): string {
  // tables, sequences and functions created in these schemas by postgres (twincigo migrate) or by
  // supabase_admin (Studio, pg-meta) are granted to the API roles, as on Supabase's own image
  const defaults = (schema: string) =>
    ['postgres', 'supabase_admin']
      .flatMap((owner) => ['TABLES', 'SEQUENCES', 'FUNCTIONS'].map((kind) => `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${schema} GRANT ALL ON ${kind} TO postgres, ${API_ROLES};`))
      .join('\n');
  return `CREATE SCHEMA IF NOT EXISTS extensions;
CREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION supabase_auth_admin;
CREATE SCHEMA IF NOT EXISTS storage AUTHORIZATION supabase_storage_admin;
CREATE SCHEMA IF NOT EXISTS _realtime AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS realtime AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS graphql_public;
ALTER SCHEMA auth OWNER TO supabase_auth_admin;
ALTER SCHEMA storage OWNER TO supabase_storage_admin;

GRANT USAGE ON SCHEMA public, extensions, graphql_public TO postgres, ${API_ROLES};
GRANT USAGE ON SCHEMA auth, storage TO ${API_ROLES}, dashboard_user;
GRANT USAGE, CREATE ON SCHEMA public TO backend;
GRANT USAGE ON SCHEMA extensions TO backend;
GRANT ALL ON ALL TABLES IN SCHEMA public TO ${API_ROLES};
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${API_ROLES};
GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO ${API_ROLES};
${defaults('public')}
${defaults('graphql_public')}

-- Studio's own login (dashboard_user): the database, the extensions, auth and storage
GRANT ALL ON DATABASE postgres TO dashboard_user;
GRANT ALL ON SCHEMA extensions, auth, storage TO dashboard_user, postgres;
GRANT ALL ON ALL TABLES IN SCHEMA extensions, auth TO dashboard_user;
GRANT ALL ON ALL SEQUENCES IN SCHEMA extensions, auth, storage TO dashboard_user;
GRANT ALL ON ALL ROUTINES IN SCHEMA extensions, auth, storage TO dashboard_user;`;
}

export function supabaseSql(input: SupabaseSqlInput): string {
  return `-- twincigo: Supabase roles, schemas and grants (idempotent)
\\set ON_ERROR_STOP on
-- only warnings reach the operator: the skipped extensions, not "already exists, skipping"
SET client_min_messages = warning;
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('twincigo-supabase-sql'));
${rolesSql(input)}

${schemasSql()}
ALTER DATABASE postgres SET "app.settings.jwt_exp" TO ${literal(input.jwtExpiry || '3600')};

${apiSql()}

${extensionsSql()}
COMMIT;
`;
}
