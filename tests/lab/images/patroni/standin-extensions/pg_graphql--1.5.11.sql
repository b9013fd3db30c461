-- STAND-IN (twincigo lab) for pg_graphql: graphql.resolve with upstream's signature; it answers
-- `{ __typename }` and nothing else (there is no GraphQL engine here).
CREATE FUNCTION @extschema@.resolve(query text, variables jsonb DEFAULT '{}', "operationName" text DEFAULT NULL, extensions jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql AS $$
  SELECT CASE WHEN query ~ '^\s*(query\s*)?\{\s*__typename\s*\}\s*$'
    THEN jsonb_build_object('data', jsonb_build_object('__typename', 'Query'))
    ELSE jsonb_build_object('data', NULL, 'errors', jsonb_build_array(jsonb_build_object('message', 'stand-in pg_graphql answers { __typename } only'))) END
$$;
