-- STAND-IN (twincigo lab) for supabase_vault: the secrets table and view with upstream's names; no encryption.
CREATE TABLE @extschema@.secrets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text UNIQUE,
  description text NOT NULL DEFAULT '',
  secret text NOT NULL,
  key_id uuid,
  nonce bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE VIEW @extschema@.decrypted_secrets AS SELECT *, secret AS decrypted_secret FROM @extschema@.secrets;
CREATE FUNCTION @extschema@.create_secret(new_secret text, new_name text DEFAULT NULL, new_description text DEFAULT '', new_key_id uuid DEFAULT NULL)
RETURNS uuid LANGUAGE sql AS $$
  INSERT INTO @extschema@.secrets (secret, name, description, key_id) VALUES (new_secret, new_name, new_description, new_key_id) RETURNING id
$$;
