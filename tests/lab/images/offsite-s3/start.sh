#!/bin/sh
# moto's S3 on loopback, Caddy in front of it with the lab CA's certificate
set -eu
python3 -m moto.server --host 127.0.0.1 --port 5000 &
exec caddy run --config /etc/caddy/Caddyfile --adapter caddyfile
