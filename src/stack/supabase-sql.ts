/**
 * Supabase's database side on a Patroni-initialised cluster: the roles, schemas and grants its
 * services expect (Patroni's initdb creates none of them). Idempotent: roles and schemas are
 * created when missing, passwords and grants set every time. Run once on the leader after
 * bootstrap (and again on any re-run: it converges). Optional extensions the image lacks are
 * skipped with a WARNING naming them.
 */

/** A SQL string literal. */
export function literal(value: string): string {
  if (value.includes('\0')) throw new Error('a NUL byte cannot be part of a SQL literal');
  return `'${value.replace(/'/g, "''")}'`;
}

/** Extensions Supabase uses; each is created only when the image has it. */
export const SUPABASE_EXTENSIONS = ['uuid-ossp', 'pgcrypto', 'pg_stat_statements', 'pgjwt', 'pg_graphql', 'pgsodium', 'supabase_vault', 'pg_net', 'vector'];

const ROLES: Array<[string, string]> = [
  ['anon', 'NOLOGIN NOINHERIT'],
  ['authenticated', 'NOLOGIN NOINHERIT'],
  ['service_role', 'NOLOGIN NOINHERIT BYPASSRLS'],
  ['authenticator', 'LOGIN NOINHERIT'],
  ['supabase_admin', 'LOGIN SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS'],
  ['supabase_auth_admin', 'LOGIN NOINHERIT CREATEROLE'],
  ['supabase_storage_admin', 'LOGIN NOINHERIT CREATEROLE'],
  ['dashboard_user', 'NOLOGIN CREATEDB CREATEROLE REPLICATION'],
  ['backend', 'LOGIN NOINHERIT'],
];

export interface SupabaseSqlInput {
  postgresPassword: string;
  backendPassword: string;
}

export function supabaseSql(input: SupabaseSqlInput): string {
  const pw = literal(input.postgresPassword);
  const createRoles = ROLES.map(
    ([name, attrs]) => `  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${name}') THEN CREATE ROLE ${name} ${attrs}; END IF;`,
  ).join('\n');
  const extensions = SUPABASE_EXTENSIONS.map(
    (e) => `  IF EXISTS (SELECT FROM pg_available_extensions WHERE name = '${e}') THEN
    EXECUTE format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA extensions', '${e}');
  ELSE
    RAISE WARNING 'twincigo: optional extension % is not available in this image: skipped', '${e}';
  END IF;`,
  ).join('\n');
  return `-- twincigo: Supabase roles, schemas and grants (idempotent)
\\set ON_ERROR_STOP on
-- only warnings reach the operator: the skipped extensions, not "already exists, skipping"
SET client_min_messages = warning;
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('twincigo-supabase-sql'));
DO $$
BEGIN
${createRoles}
END
$$;
ALTER ROLE authenticator WITH PASSWORD ${pw};
ALTER ROLE supabase_admin WITH PASSWORD ${pw};
ALTER ROLE supabase_auth_admin WITH PASSWORD ${pw};
ALTER ROLE supabase_storage_admin WITH PASSWORD ${pw};
ALTER ROLE backend WITH PASSWORD ${literal(input.backendPassword)};
GRANT anon, authenticated, service_role TO authenticator;
GRANT anon, authenticated, service_role TO supabase_storage_admin;

CREATE SCHEMA IF NOT EXISTS extensions;
CREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION supabase_auth_admin;
CREATE SCHEMA IF NOT EXISTS storage AUTHORIZATION supabase_storage_admin;
CREATE SCHEMA IF NOT EXISTS _realtime AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS realtime AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS graphql_public;
ALTER SCHEMA auth OWNER TO supabase_auth_admin;
ALTER SCHEMA storage OWNER TO supabase_storage_admin;
ALTER ROLE supabase_auth_admin SET search_path = auth;
ALTER ROLE supabase_storage_admin SET search_path = storage;

GRANT USAGE ON SCHEMA public, extensions, graphql_public TO anon, authenticated, service_role;
GRANT USAGE ON SCHEMA auth, storage TO anon, authenticated, service_role, dashboard_user;
GRANT ALL ON SCHEMA extensions TO dashboard_user, postgres;
GRANT USAGE, CREATE ON SCHEMA public TO backend;
GRANT ALL ON ALL TABLES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER ROLE authenticator SET statement_timeout = '8s';
ALTER ROLE anon SET statement_timeout = '3s';
ALTER ROLE authenticated SET statement_timeout = '8s';

DO $$
BEGIN
${extensions}
END
$$;
COMMIT;
`;
}
