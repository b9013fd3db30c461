#!/bin/sh
# Called as the real kong image's entrypoint would be (`/docker-entrypoint.sh kong docker-start`).
exec python3 /usr/local/bin/standin
