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


def kong_config():
    """Kong's contract, from the declarative config it is given (rendered by the compose entrypoint):
    each service's route paths, upstream URL and strip_path; its key-auth, acl (consumer groups),
    basic-auth and request-termination plugins; its connect_timeout and retries (an upstream name with
    several addresses — Swarm's dnsrr — is tried address by address, as Kong's balancer does)."""
    if NAME != "kong" or not os.path.exists(KONG_CONFIG):
        return [], {}, {}, {}
    import yaml

    with open(KONG_CONFIG) as f:
        doc = yaml.safe_load(f)
    consumers = {c["keyauth_credentials"][0]["key"]: c["username"] for c in doc.get("consumers", []) if c.get("keyauth_credentials")}
    groups = {}
    for a in doc.get("acls", []):
        groups.setdefault(a["consumer"], set()).add(a["group"])
    basic = {(b["username"], b["password"]) for b in doc.get("basicauth_credentials", [])}
    routes = []
    for svc in doc.get("services", []):
        plugins = {p["name"]: p.get("config", {}) for p in svc.get("plugins", []) or []}
        for r in svc.get("routes", []):
            for path in r.get("paths", []):
                routes.append({"prefix": path, "url": svc["url"], "strip": r.get("strip_path", True), "plugins": plugins,
                               "connect_timeout": svc.get("connect_timeout", 60000) / 1000, "retries": svc.get("retries", 5)})
    routes.sort(key=lambda r: -len(r["prefix"]))  # the longest matching path wins, as in Kong
    return routes, consumers, groups, basic


ROUTES, CONSUMERS, GROUPS, BASIC = kong_config()

# realtime's contract: the tenant is the first label of the Host it is called by; self-hosting seeds "realtime-dev"
REALTIME_TENANTS = {"realtime-dev"}


_turn = [0]


def upstream(target, method, body, headers, connect_timeout, retries):
    """One request to an upstream URL: its name's addresses in turn (round robin across requests),
    each given connect_timeout to accept the connection, at most retries + 1 tries."""
    import http.client
    import urllib.parse

    u = urllib.parse.urlsplit(target)
    port = u.port or 80
    addrs = list(dict.fromkeys(i[4][0] for i in socket.getaddrinfo(u.hostname, port, socket.AF_INET, socket.SOCK_STREAM)))
    _turn[0] += 1
    last = None
    for attempt in range(retries + 1):
        addr = addrs[(_turn[0] + attempt) % len(addrs)]
        conn = http.client.HTTPConnection(addr, port, timeout=connect_timeout)
        try:
            conn.connect()
        except OSError as e:
            last = e
            continue
        conn.sock.settimeout(30)
        path = u.path + (f"?{u.query}" if u.query else "")
        conn.request(method, path or "/", body=body, headers={**headers, "Host": u.netloc})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return data, r.status, r.headers.get("Content-Type", "application/json")
    raise last or OSError(f"no address for {u.hostname}")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path != HEALTH:
            route = next((r for r in ROUTES if path.startswith(r["prefix"])), None)
            if route:
                return self.proxy(route)
            if NAME == "kong":
                return self.reply(404, {"message": "no Route matched with those values"})
            if NAME == "realtime" and (self.headers.get("Host") or "").split(".")[0].split(":")[0] not in REALTIME_TENANTS:
                return self.reply(404, {"error": "Tenant not found", "host": self.headers.get("Host")})
            return self.reply(200 if NAME == "realtime" else 404, {"standin": NAME, "path": path, "host": self.headers.get("Host"), "method": self.command})
        ok, err = db_ok()
        self.reply(200 if ok else 503, {"status": "ok" if ok else "unhealthy", "standin": NAME, "error": err})

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def authorize(self, plugins):
        """Kong's auth plugins in their order: key-auth, then acl on the consumer's groups, or basic-auth."""
        if "key-auth" in plugins:
            key = self.headers.get("apikey")
            if not key:
                return 401, "No API key found in request"
            consumer = CONSUMERS.get(key)
            if not consumer:
                return 401, "Invalid authentication credentials"
            allow = set(plugins.get("acl", {}).get("allow", [])) if "acl" in plugins else None
            if allow is not None and not (GROUPS.get(consumer, set()) & allow):
                return 403, "You cannot consume this service"
        if "basic-auth" in plugins:
            import base64

            raw = (self.headers.get("Authorization") or "").removeprefix("Basic ")
            try:
                user, _, pw = base64.b64decode(raw).decode().partition(":")
            except Exception:
                user, pw = "", ""
            if (user, pw) not in BASIC:
                return 401, "Unauthorized"
        return None

    def proxy(self, route):
        plugins = route["plugins"]
        if "request-termination" in plugins:
            cfg = plugins["request-termination"]
            return self.reply(cfg.get("status_code", 503), {"message": cfg.get("message", "")})
        denied = self.authorize(plugins)
        if denied:
            return self.reply(denied[0], {"message": denied[1]})
        rest = self.path[len(route["prefix"]):] if route["strip"] else self.path
        url = route["url"]
        target = url.rstrip("/") + "/" + rest.lstrip("/") if rest else url
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if self.command in ("POST", "PATCH", "PUT", "DELETE") else None
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept", "prefer", "apikey", "authorization", "content-profile", "accept-profile")}
        if "key-auth" in plugins and plugins["key-auth"].get("hide_credentials"):
            headers.pop("apikey", None)
        for h in plugins.get("request-transformer", {}).get("add", {}).get("headers", []):
            k, _, v = h.partition(":")
            headers.setdefault(k.strip(), v.strip())
        headers["X-Forwarded-Prefix"] = route["prefix"]
        try:
            data, code, ctype = upstream(target, self.command, body, headers, route["connect_timeout"], route["retries"])
        except OSError as e:
            return self.reply(502, {"message": f"An invalid response was received from the upstream server: {e}"})
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Via", "kong/standin")
        self.end_headers()
        self.wfile.write(data)

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
