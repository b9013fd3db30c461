#!/bin/sh
# pgsodium.getkey_script: prints the root key shared by all nodes (from the node's .env).
[ -n "${PGSODIUM_ROOT_KEY:-}" ] || { echo "PGSODIUM_ROOT_KEY is not set" >&2; exit 1; }
printf '%s\n' "$PGSODIUM_ROOT_KEY"
