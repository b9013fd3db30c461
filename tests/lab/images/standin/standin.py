"""Stand-in service: STANDIN_NAME, STANDIN_PORT, STANDIN_HEALTH (path), optional STANDIN_DB."""
import json
import os
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = os.environ.get("STANDIN_NAME", "standin")
PORT = int(os.environ.get("STANDIN_PORT", "8000"))
HEALTH = os.environ.get("STANDIN_HEALTH", "/health")
DB = os.environ.get("STANDIN_DB", "")


def db_ok():
    if not DB:
        return True, None
    try:
        import psycopg2

        with psycopg2.connect(DB, connect_timeout=3) as conn, conn.cursor() as cur:
            cur.execute("select 1")
        return True, None
    except Exception as exc:
        return False, type(exc).__name__


KONG_CONFIG = "/home/kong/kong.yml"


def kong_routes():
    """Kong's contract, from the declarative config it is given (rendered by the compose entrypoint):
    each service's route paths, its upstream URL, strip_path, and whether key-auth guards it."""
    if NAME != "kong" or not os.path.exists(KONG_CONFIG):
        return [], set()
    import yaml

    with open(KONG_CONFIG) as f:
        doc = yaml.safe_load(f)
    keys = {c["keyauth_credentials"][0]["key"] for c in doc.get("consumers", []) if c.get("keyauth_credentials")}
    routes = []
    for svc in doc.get("services", []):
        guarded = any(p.get("name") == "key-auth" for p in svc.get("plugins", []) or [])
        for r in svc.get("routes", []):
            for path in r.get("paths", []):
                routes.append((path, svc["url"], r.get("strip_path", True), guarded))
    routes.sort(key=lambda r: -len(r[0]))  # the longest matching path wins, as in Kong
    return routes, keys


ROUTES, KEYS = kong_routes()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path != HEALTH:
            route = next((r for r in ROUTES if path.startswith(r[0])), None)
            if route:
                return self.proxy(route)
            return self.reply(404, {"error": "not found", "standin": NAME})
        ok, err = db_ok()
        self.reply(200 if ok else 503, {"status": "ok" if ok else "unhealthy", "standin": NAME, "error": err})

    def proxy(self, route):
        import urllib.error
        import urllib.request

        prefix, url, strip, guarded = route
        if guarded and self.headers.get("apikey") not in KEYS:
            return self.reply(401, {"message": "No API key found in request" if not self.headers.get("apikey") else "Invalid authentication credentials"})
        rest = self.path[len(prefix):] if strip else self.path
        target = url.rstrip("/") + "/" + rest.lstrip("/") if rest else url
        try:
            with urllib.request.urlopen(urllib.request.Request(target, headers={"X-Forwarded-Prefix": prefix}), timeout=10) as r:
                body, code = r.read(), r.status
        except urllib.error.HTTPError as e:
            body, code = e.read(), e.code
        except OSError as e:
            return self.reply(502, {"message": f"An invalid response was received from the upstream server: {e}"})
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Via", "kong/standin")
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self):  # `wget --spider` and `curl --head` health checks
        self.head_only = True
        self.do_GET()

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not getattr(self, "head_only", False):
            self.wfile.write(data)

    def log_message(self, *args):
        pass


class DualStackServer(ThreadingHTTPServer):
    """Listens on IPv6 and IPv4: health checks ask `localhost`, which may resolve to ::1 first."""

    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


print(f"stand-in for {NAME} on :{PORT}{HEALTH}", flush=True)
try:
    server = DualStackServer(("::", PORT), Handler)
except OSError:  # no IPv6 in this container
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
server.serve_forever()
