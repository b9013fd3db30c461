"""STAND-IN for Grafana Alloy's Docker log shipping (see the Dockerfile for the contract it honours)."""
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlparse

# ---- Alloy's syntax: blocks, attributes, strings, lists, objects, references ----
TOKEN = re.compile(r'\s+|//[^\n]*|/\*.*?\*/|("(?:[^"\\\n]|\\.)*")|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([{}\[\],=.])', re.S)


def tokenize(src):
    out, pos = [], 0
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if not m:
            raise SystemExit(f"alloy: config: unexpected character at offset {pos}")
        tok = next((g for g in m.groups() if g is not None), None)
        if tok is not None:
            out.append(tok)
        pos = m.end()
    return out


def parse(src):
    toks, i = tokenize(src), [0]

    def nxt():
        i[0] += 1
        return toks[i[0] - 1]

    def peek():
        return toks[i[0]] if i[0] < len(toks) else None

    def value():
        t = nxt()
        if t.startswith('"'):
            return json.loads(t)
        if re.match(r"-?\d", t):
            return float(t)
        if t in ("true", "false"):
            return t == "true"
        if t == "[":
            arr = []
            while peek() != "]":
                arr.append(value())
                if peek() == ",":
                    nxt()
            nxt()
            return arr
        if t == "{":
            obj = {}
            while peek() != "}":
                k = nxt()
                nxt()  # =
                obj[json.loads(k) if k.startswith('"') else k] = value()
                if peek() == ",":
                    nxt()
            nxt()
            return obj
        parts = [t]
        while peek() == ".":
            nxt()
            parts.append(nxt())
        return {"ref": ".".join(parts)}

    def body(closing):
        attrs, blocks = {}, []
        while peek() != closing:
            parts = [nxt()]
            while peek() == ".":
                nxt()
                parts.append(nxt())
            if peek() == "=":
                nxt()
                attrs[parts[0]] = value()
                continue
            label = json.loads(nxt()) if peek().startswith('"') else None
            nxt()  # {
            a, b = body("}")
            nxt()  # }
            blocks.append({"name": ".".join(parts), "label": label, "attrs": a, "blocks": b})
        return attrs, blocks

    return body(None)[1]


def component(blocks, name):
    found = [b for b in blocks if b["name"] == name]
    if len(found) != 1:
        raise SystemExit(f"alloy: the stand-in needs exactly one {name} component, found {len(found)}")
    return found[0]


# ---- Docker's API on the socket ----
class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout=None):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def docker_get(sock, path, timeout=10):
    c = UnixHTTP(sock, timeout)
    c.request("GET", path)
    return c.getresponse()


def sanitize(name):
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def relabel(meta, rules):
    labels = dict(meta)
    for r in rules:
        action = r.get("action", "replace")
        if action != "replace":
            raise SystemExit(f"alloy: the stand-in applies replace rules only, not {action}")
        value = r.get("separator", ";").join(labels.get(s, "") for s in r.get("source_labels", []))
        m = re.fullmatch(r.get("regex", "(.*)"), value)
        if m and r.get("target_label"):
            out = m.expand(r.get("replacement", "$1").replace("$", "\\"))
            if out:
                labels[r["target_label"]] = out
            else:
                labels.pop(r["target_label"], None)
    return {k: v for k, v in labels.items() if not k.startswith("__")}


def ns_of(ts):
    """RFC 3339 with nanoseconds → ns since the epoch."""
    base, _, frac = ts.rstrip("Z").partition(".")
    sec = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return int(sec) * 10**9 + int((frac + "000000000")[:9])


class Agent:
    def __init__(self, blocks, storage):
        disc, rel = component(blocks, "discovery.docker"), component(blocks, "discovery.relabel")
        src, write = component(blocks, "loki.source.docker"), component(blocks, "loki.write")
        self.sock = urlparse(disc["attrs"]["host"]).path
        self.refresh = float(re.sub(r"s$", "", str(disc["attrs"].get("refresh_interval", "60s"))))
        self.filters = {}
        for f in disc["blocks"]:
            if f["name"] == "filter":
                self.filters.setdefault(f["attrs"]["name"], []).extend(f["attrs"]["values"])
        self.rules = [b["attrs"] for b in rel["blocks"] if b["name"] == "rule"]
        self.static = {k: str(v) for k, v in (src["attrs"].get("labels") or {}).items()}
        self.url = urlparse(component(write["blocks"], "endpoint")["attrs"]["url"])
        self.positions_file = os.path.join(storage, "positions.json")
        self.lock = threading.Lock()
        self.positions = json.load(open(self.positions_file)) if os.path.exists(self.positions_file) else {}
        self.batch, self.following = [], set()

    def discover(self):
        res = docker_get(self.sock, "/containers/json?filters=" + quote(json.dumps(self.filters)))
        for c in json.loads(res.read()):
            if c["Id"] not in self.following:
                self.following.add(c["Id"])
                threading.Thread(target=self.follow, args=(c,), daemon=True).start()

    def follow(self, c):
        try:
            tty = json.loads(docker_get(self.sock, f"/containers/{c['Id']}/json").read())["Config"].get("Tty", False)
            since = self.positions.get(c["Id"], 0)
            res = docker_get(self.sock, f"/containers/{c['Id']}/logs?follow=1&stdout=1&stderr=1&timestamps=1&since={since / 1e9:.9f}", timeout=None)
            meta = {"__meta_docker_container_id": c["Id"], "__meta_docker_container_name": c["Names"][0]}
            meta.update({"__meta_docker_container_label_" + sanitize(k): v for k, v in c.get("Labels", {}).items()})
            pending = {"stdout": b"", "stderr": b""}
            while True:
                if tty:
                    stream, payload = "stdout", res.read1(65536)
                else:
                    head = res.read(8)
                    if len(head) < 8:
                        break
                    stream = "stderr" if head[0] == 2 else "stdout"
                    payload = res.read(int.from_bytes(head[4:8], "big"))
                if not payload:
                    break
                *lines, pending[stream] = (pending[stream] + payload).split(b"\n")
                labels = relabel({**meta, "__meta_docker_container_log_stream": stream}, self.rules)
                for raw in lines:
                    ts, _, line = raw.decode("utf-8", "replace").partition(" ")
                    ns = ns_of(ts)
                    if ns <= since:
                        continue  # shipped before a restart
                    with self.lock:
                        self.batch.append(({**labels, **self.static}, ns, line, c["Id"]))
        except Exception as exc:  # the container went away: discovery follows it again if it comes back
            print(f"alloy: following {c['Names'][0]}: {type(exc).__name__}: {exc}", flush=True)
        finally:
            self.following.discard(c["Id"])

    def push(self):
        with self.lock:
            batch, self.batch = self.batch, []
        if not batch:
            return
        streams = {}
        for labels, ns, line, _ in batch:
            streams.setdefault(json.dumps(labels, sort_keys=True), []).append([str(ns), line])
        body = json.dumps({"streams": [{"stream": json.loads(k), "values": v} for k, v in streams.items()]})
        try:
            conn = http.client.HTTPConnection(self.url.hostname, self.url.port or 80, timeout=10)
            conn.request("POST", self.url.path, body, {"Content-Type": "application/json"})
            status = conn.getresponse().status
            if status >= 300:
                raise OSError(f"Loki answered {status}")
        except OSError as exc:
            print(f"alloy: push to {self.url.geturl()} failed ({exc}); retrying", flush=True)
            with self.lock:
                self.batch = batch[-50000:] + self.batch  # keep the newest lines, as a bounded buffer
            return
        for _, ns, _, cid in batch:
            self.positions[cid] = max(self.positions.get(cid, 0), ns)
        tmp = self.positions_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.positions, f)
        os.replace(tmp, self.positions_file)

    def run(self):
        last = 0.0
        while True:
            if time.monotonic() - last >= self.refresh:
                last = time.monotonic()
                try:
                    self.discover()
                except OSError as exc:
                    print(f"alloy: docker discovery: {exc}", flush=True)
            time.sleep(1)  # loki.write's default batch_wait
            self.push()


class Ready(BaseHTTPRequestHandler):
    def do_GET(self):
        code = 200 if self.path in ("/-/ready", "/-/healthy") else 404
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"Alloy is ready.\n" if code == 200 else b"")

    def log_message(self, *args):
        pass


def main(argv):
    if not argv or argv[0] != "run":
        raise SystemExit("usage: alloy run [flags] FILE")
    flags = dict(a[2:].split("=", 1) for a in argv[1:] if a.startswith("--") and "=" in a)
    files = [a for a in argv[1:] if not a.startswith("--")]
    storage = flags.get("storage.path", "data-alloy/")
    os.makedirs(storage, exist_ok=True)
    agent = Agent(parse(open(files[-1]).read()), storage)
    host, _, port = flags.get("server.http.listen-addr", "127.0.0.1:12345").rpartition(":")
    threading.Thread(target=ThreadingHTTPServer((host, int(port)), Ready).serve_forever, daemon=True).start()
    print(f"standin-alloy: shipping containers {agent.filters} to {agent.url.geturl()} as {agent.static}", flush=True)
    agent.run()


if __name__ == "__main__":
    main(sys.argv[1:])
