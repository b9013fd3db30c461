/**
 * The parts of Supabase's database set-up that follow the extensions: the realtime publication,
 * the GraphQL entry point PostgREST serves at /graphql/v1, the event triggers that grant access
 * when pg_cron, pg_net or pg_graphql is enabled later (from Studio or a migration), and the
 * extensions themselves. Our own SQL, written to the contract of supabase/postgres's set-up.
 */

/** Extensions Supabase uses; each is created only when the image has it, in the schema its control file names. */
export const SUPABASE_EXTENSIONS = ['uuid-ossp', 'pgcrypto', 'pg_stat_statements', 'pgjwt', 'pg_graphql', 'pgsodium', 'supabase_vault', 'pg_net', 'vector'];

const API_ROLES = 'anon, authenticated, service_role';

/** An event trigger (re)created on every run: the function first, then the trigger. */
const eventTrigger = (name: string, fn: string, on: string, body: string) => `CREATE OR REPLACE FUNCTION extensions.${fn}() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
${body}
$fn$;
DROP EVENT TRIGGER IF EXISTS ${name};
CREATE EVENT TRIGGER ${name} ON ddl_command_end WHEN TAG IN (${on}) EXECUTE FUNCTION extensions.${fn}();`;

/** The signatures of pg_net's two functions, as its event trigger grants them. */
const NET_FUNCTIONS = [
  'net.http_get(url text, params jsonb, headers jsonb, timeout_milliseconds integer)',
  'net.http_post(url text, body jsonb, params jsonb, headers jsonb, timeout_milliseconds integer)',
];

function triggersSql(): string {
  const cron = eventTrigger('issue_pg_cron_access', 'grant_pg_cron_access', "'CREATE EXTENSION'", `BEGIN
  IF EXISTS (SELECT FROM pg_event_trigger_ddl_commands() ev JOIN pg_extension e ON ev.objid = e.oid WHERE e.extname = 'pg_cron') THEN
    GRANT USAGE ON SCHEMA cron TO postgres WITH GRANT OPTION;
    GRANT ALL ON ALL TABLES IN SCHEMA cron TO postgres WITH GRANT OPTION;
    ALTER DEFAULT PRIVILEGES IN SCHEMA cron GRANT ALL ON TABLES TO postgres WITH GRANT OPTION;
    ALTER DEFAULT PRIVILEGES IN SCHEMA cron GRANT ALL ON FUNCTIONS TO postgres WITH GRANT OPTION;
    ALTER DEFAULT PRIVILEGES IN SCHEMA cron GRANT ALL ON SEQUENCES TO postgres WITH GRANT OPTION;
  END IF;
END;`);
  const net = eventTrigger('issue_pg_net_access', 'grant_pg_net_access', "'CREATE EXTENSION'", `BEGIN
  IF EXISTS (SELECT FROM pg_event_trigger_ddl_commands() ev JOIN pg_extension e ON ev.objid = e.oid WHERE e.extname = 'pg_net') THEN
    GRANT USAGE ON SCHEMA net TO supabase_functions_admin, postgres, ${API_ROLES};
${NET_FUNCTIONS.map((f) => `    ALTER FUNCTION ${f} SECURITY DEFINER;
    ALTER FUNCTION ${f} SET search_path = net;
    REVOKE ALL ON FUNCTION ${f} FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION ${f} TO supabase_functions_admin, postgres, ${API_ROLES};`).join('\n')}
  END IF;
END;`);
  const graphql = eventTrigger('issue_pg_graphql_access', 'grant_pg_graphql_access', "'CREATE EXTENSION'", `BEGIN
  IF EXISTS (SELECT FROM pg_event_trigger_ddl_commands() ev JOIN pg_extension e ON ev.objid = e.oid WHERE e.extname = 'pg_graphql') THEN
    GRANT USAGE ON SCHEMA graphql TO postgres, ${API_ROLES};
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA graphql TO postgres, ${API_ROLES};
    GRANT SELECT ON ALL TABLES IN SCHEMA graphql TO postgres, ${API_ROLES};
  END IF;
END;`);
  return [cron, net, graphql].join('\n');
}

/**
 * The publication realtime listens on (empty: tables are added to it by the app), and the GraphQL
 * entry point: it answers through pg_graphql when the extension is there (looked up at each call,
 * so enabling it later needs no second step) and with GraphQL's own error shape when it is not.
 */
export function apiSql(): string {
  return `DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime') THEN CREATE PUBLICATION supabase_realtime; END IF;
END
$$;
CREATE OR REPLACE FUNCTION graphql_public.graphql("operationName" text DEFAULT NULL, query text DEFAULT NULL, variables jsonb DEFAULT NULL, extensions jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  result jsonb;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'graphql' AND p.proname = 'resolve') THEN
    RETURN jsonb_build_object('data', NULL, 'errors', jsonb_build_array(jsonb_build_object('message', 'pg_graphql is not enabled in this database')));
  END IF;
  EXECUTE 'SELECT graphql.resolve(query => $1, variables => $2, "operationName" => $3, extensions => $4)'
    INTO result USING query, coalesce(variables, '{}'::jsonb), "operationName", extensions;
  RETURN result;
END
$fn$;
GRANT EXECUTE ON FUNCTION graphql_public.graphql(text, text, jsonb, jsonb) TO postgres, ${API_ROLES};
${triggersSql()}`;
}

/**
 * Each extension where its control file says: one that pins its schema (pgsodium, supabase_vault,
 * pg_graphql — PostgreSQL refuses another) in that schema, any other in \`extensions\`; what it
 * requires comes with it (CASCADE). After pgsodium, postgres administers its key roles, as on the image.
 */
export function extensionsSql(): string {
  return `DO $$
DECLARE
  ext text;
  pinned name;
BEGIN
  FOREACH ext IN ARRAY ARRAY[${SUPABASE_EXTENSIONS.map((e) => `'${e}'`).join(', ')}] LOOP
    SELECT v.schema INTO pinned FROM pg_available_extensions a
      JOIN pg_available_extension_versions v ON v.name = a.name AND v.version = a.default_version WHERE a.name = ext;
    IF NOT FOUND THEN
      RAISE WARNING 'twincigo: optional extension % is not available in this image: skipped', ext;
    ELSIF NOT EXISTS (SELECT FROM pg_extension WHERE extname = ext) THEN
      IF pinned IS NOT NULL THEN
        EXECUTE format('CREATE EXTENSION %I CASCADE', ext);
      ELSE
        EXECUTE format('CREATE EXTENSION %I WITH SCHEMA extensions CASCADE', ext);
      END IF;
    END IF;
  END LOOP;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgsodium_keymaker') THEN
    GRANT pgsodium_keyiduser, pgsodium_keyholder, pgsodium_keymaker TO postgres WITH ADMIN OPTION;
  END IF;
  IF EXISTS (SELECT FROM pg_namespace WHERE nspname = 'graphql') THEN
    GRANT USAGE ON SCHEMA graphql TO postgres, ${API_ROLES};
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA graphql TO postgres, ${API_ROLES};
  END IF;
END
$$;`;
}
