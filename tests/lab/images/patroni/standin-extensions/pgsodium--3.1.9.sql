-- STAND-IN (twincigo lab) for pgsodium 3.1.9: the key roles and the key table, no cryptography.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgsodium_keyiduser') THEN CREATE ROLE pgsodium_keyiduser NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgsodium_keyholder') THEN CREATE ROLE pgsodium_keyholder NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgsodium_keymaker') THEN CREATE ROLE pgsodium_keymaker NOLOGIN; END IF;
END
$$;
GRANT pgsodium_keyiduser TO pgsodium_keyholder;
GRANT pgsodium_keyholder TO pgsodium_keymaker;
CREATE TABLE @extschema@.key (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text UNIQUE, created timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION @extschema@.version() RETURNS text LANGUAGE sql AS $$ SELECT 'standin-3.1.9' $$;
GRANT USAGE ON SCHEMA @extschema@ TO pgsodium_keyiduser;
GRANT SELECT ON @extschema@.key TO pgsodium_keyiduser;
