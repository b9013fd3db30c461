"""STAND-IN for Grafana Loki (see the Dockerfile for the contract it honours)."""
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import yaml

CONFIG = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("-config.file=")), "/etc/loki/local-config.yaml")
try:
    with open(CONFIG) as f:
        CONF = yaml.safe_load(f) or {}
except FileNotFoundError:
    CONF = {}
PORT = int((CONF.get("server") or {}).get("http_listen_port", 3100))
DATA = ((CONF.get("common") or {}).get("path_prefix")) or "/loki"
STORE = os.path.join(DATA, "standin-entries.jsonl")

LOCK = threading.Lock()
STREAMS = {}  # frozenset(labels.items()) -> list of (ns, line)


def add(labels, values):
    key = frozenset(labels.items())
    STREAMS.setdefault(key, []).extend((int(ns), line) for ns, line in values)


def load():
    if not os.path.exists(STORE):
        return
    with open(STORE) as f:
        for row in f:
            try:
                doc = json.loads(row)
            except ValueError:
                continue  # a line cut short by a crash
            add(doc["stream"], doc["values"])


MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')
FILTER = re.compile(r'\s*(\|=|!=)\s*"((?:[^"\\]|\\.)*)"')


def parse_query(q):
    """A stream selector and line filters; anything else is not supported by the stand-in."""
    q = q.strip()
    if not q.startswith("{") or "}" not in q:
        raise ValueError("the stand-in supports a stream selector {...} followed by |= / != line filters only")
    sel, rest = q[1:q.index("}")], q[q.index("}") + 1:]
    matchers, pos = [], 0
    while pos < len(sel):
        m = MATCHER.match(sel, pos)
        if not m:
            raise ValueError(f"parse error in selector at: {sel[pos:]}")
        matchers.append((m.group(1), m.group(2), json.loads(f'"{m.group(3)}"')))
        pos = m.end()
    if not any(op in ("=", "=~") and v != "" for _, op, v in matchers):
        raise ValueError("queries require at least one matcher that is not empty-compatible")
    filters, pos = [], 0
    while pos < len(rest.strip()):
        m = FILTER.match(rest.strip(), pos)
        if not m:
            raise ValueError(f"the stand-in supports only |= and != line filters, not: {rest.strip()[pos:]}")
        filters.append((m.group(1), json.loads(f'"{m.group(2)}"')))
        pos = m.end()
    return matchers, filters


def matches(labels, matchers):
    for name, op, value in matchers:
        got = labels.get(name, "")
        ok = {"=": got == value, "!=": got != value, "=~": re.fullmatch(value, got) is not None, "!~": re.fullmatch(value, got) is None}[op]
        if not ok:
            return False
    return True


def select(query, start, end, limit, direction):
    matchers, filters = parse_query(query)
    out, total = [], 0
    with LOCK:
        for key, entries in STREAMS.items():
            labels = dict(key)
            if not matches(labels, matchers):
                continue
            vals = [(ns, line) for ns, line in entries if start <= ns <= end and all((t in line) == (op == "|=") for op, t in filters)]
            if vals:
                out.append((labels, vals))
    # the limit counts entries across streams, newest first unless direction=forward
    flat = sorted(((ns, i, line) for i, (_, vals) in enumerate(out) for ns, line in vals), reverse=direction != "forward")[:limit]
    result = {}
    for ns, i, line in flat:
        result.setdefault(i, []).append([str(ns), line])
    return [{"stream": out[i][0], "values": vals} for i, vals in result.items()]


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else (json.dumps(body) if ctype == "application/json" else body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urlparse(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        if u.path == "/ready":
            return self.reply(200, "ready\n", "text/plain")
        if u.path in ("/loki/api/v1/query_range", "/loki/api/v1/query"):
            now = time.time_ns()
            start = int(float(q.get("start", now - 3600 * 10**9)))
            end = int(float(q.get("end", now)))
            try:
                streams = select(q.get("query", ""), start, end, int(q.get("limit", 100)), q.get("direction", "backward"))
            except ValueError as exc:
                return self.reply(400, str(exc) + "\n", "text/plain")
            return self.reply(200, {"status": "success", "data": {"resultType": "streams", "result": streams}})
        if u.path == "/loki/api/v1/labels":
            with LOCK:
                names = sorted({k for key in STREAMS for k, _ in key})
            return self.reply(200, {"status": "success", "data": names})
        m = re.fullmatch(r"/loki/api/v1/label/([^/]+)/values", u.path)
        if m:
            with LOCK:
                vals = sorted({v for key in STREAMS for k, v in key if k == m.group(1)})
            return self.reply(200, {"status": "success", "data": vals})
        return self.reply(404, "404 page not found\n", "text/plain")

    def do_POST(self):
        if urlparse(self.path).path != "/loki/api/v1/push":
            return self.reply(404, "404 page not found\n", "text/plain")
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            return self.reply(415, "the stand-in accepts the JSON push format only\n", "text/plain")
        try:
            streams = json.loads(body)["streams"]
            rows = [{"stream": {str(k): str(v) for k, v in s["stream"].items()}, "values": [[str(ns), str(line)] for ns, line in s["values"]]} for s in streams]
        except (ValueError, KeyError, TypeError) as exc:
            return self.reply(400, f"bad push: {exc}\n", "text/plain")
        with LOCK:
            with open(STORE, "a") as f:
                for r in rows:
                    add(r["stream"], r["values"])
                    f.write(json.dumps(r) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    os.makedirs(DATA, exist_ok=True)
    load()
    print(f"standin-loki: listening on :{PORT} (config {CONFIG}, data {DATA})", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
