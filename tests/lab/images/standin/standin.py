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


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.split("?")[0] != HEALTH:
            return self.reply(404, {"error": "not found", "standin": NAME})
        ok, err = db_ok()
        self.reply(200 if ok else 503, {"status": "ok" if ok else "unhealthy", "standin": NAME, "error": err})

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
