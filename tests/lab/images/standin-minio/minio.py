"""STAND-IN for MinIO (no Debian package): the S3 API subset Supabase storage uses, SigV4-checked,
MinIO's health endpoints, and the `mc` commands twincigo's bootstrap runs.

    minio server <dir> [--console-address A]     the server on :9000 (state kept in <dir>)
    minio mc <command> ...                        the client (installed as /usr/bin/mc)
"""
import hashlib
import hmac
import json
import os
import sys
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REGION = "us-east-1"


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    k = _hmac(("AWS4" + secret).encode(), date)
    return _hmac(_hmac(_hmac(k, region), service), "aws4_request")


def canonical_query(query):
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    enc = lambda s: urllib.parse.quote(s, safe="-_.~")
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(pairs))


def signature(method, path, query, headers, signed, payload_hash, amz_date, scope, secret):
    canon_headers = "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed)
    creq = "\n".join([method, path, canonical_query(query), canon_headers, ";".join(signed), payload_hash])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    date, region, service = scope.split("/")[:3]
    return hmac.new(signing_key(secret, date, region, service), sts.encode(), hashlib.sha256).hexdigest()


def sign(method, url, access, secret, body=b""):
    """Headers of a SigV4-signed request (the client side: mc)."""
    u = urllib.parse.urlsplit(url)
    now = datetime.now(timezone.utc)
    amz_date, date = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest()
    headers = {"host": u.netloc, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    signed = sorted(headers)
    scope = f"{date}/{REGION}/s3/aws4_request"
    sig = signature(method, u.path or "/", u.query, headers, signed, payload, amz_date, scope, secret)
    headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={';'.join(signed)}, Signature={sig}"
    return headers


class State:
    def __init__(self, root):
        self.root = root
        self.file = os.path.join(root, ".standin-minio.json")
        os.makedirs(root, exist_ok=True)

    def load(self):
        try:
            with open(self.file) as f:
                return json.load(f)
        except FileNotFoundError:
            return {"users": {}, "policies": {}}

    def save(self, st):
        tmp = self.file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.replace(tmp, self.file)


def policy_buckets(doc):
    """The buckets a policy document grants (arn:aws:s3:::bucket and arn:aws:s3:::bucket/*); '*' for all."""
    out = set()
    for stmt in doc.get("Statement", []):
        if stmt.get("Effect") != "Allow":
            continue
        res = stmt.get("Resource", [])
        for r in [res] if isinstance(res, str) else res:
            name = r.removeprefix("arn:aws:s3:::").split("/")[0]
            out.add("*" if name in ("*", "") else name)
    return out


BUILTIN = {"readwrite": {"*"}, "readonly": {"*"}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", ctype="application/xml", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, s3code):
        self.reply(code, f"<?xml version=\"1.0\"?><Error><Code>{s3code}</Code></Error>".encode())

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def caller(self, body):
        """The access key of a correctly signed request, or None."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return None
        parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        access, scope = parts["Credential"].split("/", 1)
        root = (os.environ.get("MINIO_ROOT_USER"), os.environ.get("MINIO_ROOT_PASSWORD"))
        users = self.server.state.load()["users"]
        secret = root[1] if access == root[0] else users.get(access, {}).get("secret")
        if not secret:
            return None
        headers = {k.lower(): v for k, v in self.headers.items()}
        payload = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
        u = urllib.parse.urlsplit(self.path)
        want = signature(self.command, u.path, u.query, headers, parts["SignedHeaders"].split(";"), payload, headers.get("x-amz-date", ""), scope, secret)
        return access if hmac.compare_digest(want, parts["Signature"]) else None

    def allowed(self, access, bucket):
        if access == os.environ.get("MINIO_ROOT_USER"):
            return True
        st = self.server.state.load()
        grants = set()
        for p in st["users"].get(access, {}).get("policies", []):
            grants |= BUILTIN.get(p) or set(st["policies"].get(p, []))
        return "*" in grants or bucket in grants

    def handle_any(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path in ("/minio/health/live", "/minio/health/ready"):
            return self.reply(200, b"", "text/plain")
        body = self.body()
        access = self.caller(body)
        if access is None:
            return self.error(403, "SignatureDoesNotMatch")
        if u.path.startswith("/minio/admin/"):
            return self.admin(access, u, body)
        bucket, _, key = urllib.parse.unquote(u.path).lstrip("/").partition("/")
        if not bucket:
            return self.error(400, "InvalidRequest")
        if not self.allowed(access, bucket):
            return self.error(403, "AccessDenied")
        bdir = os.path.join(self.server.state.root, bucket)
        if not key:
            return self.bucket_op(bdir, bucket, u.query)
        if not os.path.isdir(bdir):
            return self.error(404, "NoSuchBucket")
        path = os.path.join(bdir, key.encode().hex())
        if self.command == "PUT":
            with open(path, "wb") as f:
                f.write(body)
            return self.reply(200, b"", extra={"ETag": '"' + hashlib.md5(body).hexdigest() + '"'})
        if self.command == "DELETE":
            if os.path.exists(path):
                os.remove(path)
            return self.reply(204)
        if not os.path.exists(path):
            return self.error(404, "NoSuchKey")
        with open(path, "rb") as f:
            data = f.read()
        return self.reply(200, data, "application/octet-stream")

    def bucket_op(self, bdir, bucket, query):
        if self.command == "PUT":
            if os.path.isdir(bdir):
                return self.error(409, "BucketAlreadyOwnedByYou")
            os.makedirs(bdir)
            return self.reply(200)
        if not os.path.isdir(bdir):
            return self.error(404, "NoSuchBucket")
        if self.command == "HEAD":
            return self.reply(200)
        if self.command == "GET":
            keys = sorted(bytes.fromhex(n).decode() for n in os.listdir(bdir))
            items = "".join(f"<Contents><Key>{k}</Key></Contents>" for k in keys)
            return self.reply(200, f"<?xml version=\"1.0\"?><ListBucketResult><Name>{bucket}</Name><KeyCount>{len(keys)}</KeyCount>{items}</ListBucketResult>".encode())
        return self.error(405, "MethodNotAllowed")

    def admin(self, access, u, body):
        if access != os.environ.get("MINIO_ROOT_USER"):
            return self.error(403, "AccessDenied")
        q = dict(urllib.parse.parse_qsl(u.query))
        st = self.server.state.load()
        op = u.path.rsplit("/", 1)[-1]
        if op == "add-user":
            user = st["users"].setdefault(q["accessKey"], {"policies": []})
            user["secret"] = json.loads(body)["secretKey"]
        elif op == "add-canned-policy":
            st["policies"][q["name"]] = sorted(policy_buckets(json.loads(body)))
        elif op == "attach-policy":
            if q["accessKey"] not in st["users"]:
                return self.error(404, "XMinioAdminNoSuchUser")
            pols = st["users"][q["accessKey"]]["policies"]
            if q["policy"] in pols:
                return self.error(409, "XMinioAdminPolicyChangeAlreadyApplied")
            pols.append(q["policy"])
        elif op == "user-info":
            user = st["users"].get(q["accessKey"])
            if not user:
                return self.error(404, "XMinioAdminNoSuchUser")
            return self.reply(200, json.dumps({"policyName": ",".join(user["policies"]), "status": "enabled"}).encode(), "application/json")
        else:
            return self.error(400, "XMinioAdminUnknownOperation")
        self.server.state.save(st)
        return self.reply(200, b"{}", "application/json")

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_any


def serve(argv):
    if not argv or argv[0] != "server":
        sys.exit("usage: minio server <dir> [--console-address A]")
    server = ThreadingHTTPServer(("0.0.0.0", 9000), Handler)
    server.state = State(argv[1] if len(argv) > 1 else "/data")
    print("standin-minio: S3 API on :9000 (a stand-in, not MinIO)", flush=True)
    server.serve_forever()


# ---- mc ----------------------------------------------------------------------------------------
MC_CONFIG = os.path.expanduser("~/.mc/standin-aliases.json")


def aliases():
    try:
        with open(MC_CONFIG) as f:
            al = json.load(f)
    except FileNotFoundError:
        al = {"local": {"url": "http://127.0.0.1:9000", "accessKey": os.environ.get("MINIO_ROOT_USER", ""), "secretKey": os.environ.get("MINIO_ROOT_PASSWORD", "")}}
    # MC_HOST_<alias>=http://ACCESS:SECRET@host:port, as mc reads it
    for k, v in os.environ.items():
        if k.startswith("MC_HOST_"):
            u = urllib.parse.urlsplit(v)
            al[k[len("MC_HOST_"):]] = {"url": f"{u.scheme}://{u.hostname}:{u.port}", "accessKey": urllib.parse.unquote(u.username), "secretKey": urllib.parse.unquote(u.password)}
    return al


def call(alias, method, path, body=b""):
    a = aliases()[alias]
    url = a["url"].rstrip("/") + path
    req = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None, method=method, headers=sign(method, url, a["accessKey"], a["secretKey"], body))
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def mc(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    cmd = args[:3]
    if args[:1] == ["ready"]:
        try:
            with urllib.request.urlopen(aliases()[args[1]]["url"] + "/minio/health/ready", timeout=3):
                return 0
        except Exception:
            return 1
    if args[:2] == ["alias", "set"]:
        al = aliases()
        al[args[2]] = {"url": args[3], "accessKey": args[4], "secretKey": args[5]}
        os.makedirs(os.path.dirname(MC_CONFIG), exist_ok=True)
        with open(MC_CONFIG, "w") as f:
            json.dump(al, f)
        os.chmod(MC_CONFIG, 0o600)
        print(f"Added `{args[2]}` successfully.")
        return 0
    if args[:1] == ["mb"]:
        alias, _, bucket = args[1].partition("/")
        code, _ = call(alias, "PUT", "/" + bucket)
        if code == 409 and "--ignore-existing" in flags:
            return 0
        print(f"Bucket created successfully `{args[1]}`." if code == 200 else f"mc: <ERROR> Unable to make bucket `{args[1]}` ({code}).", file=sys.stdout if code == 200 else sys.stderr)
        return 0 if code == 200 else 1
    q = urllib.parse.urlencode
    if cmd == ["admin", "user", "add"]:
        code, _ = call(args[3], "PUT", "/minio/admin/v3/add-user?" + q({"accessKey": args[4]}), json.dumps({"secretKey": args[5]}).encode())
    elif cmd == ["admin", "user", "info"]:
        code, out = call(args[3], "GET", "/minio/admin/v3/user-info?" + q({"accessKey": args[4]}))
        if code == 200:
            info = json.loads(out)
            print(f"AccessKey: {args[4]}\nStatus: {info['status']}\nPolicyName: {info['policyName']}")
    elif cmd == ["admin", "policy", "create"]:
        with open(args[5], "rb") as f:
            code, _ = call(args[3], "PUT", "/minio/admin/v3/add-canned-policy?" + q({"name": args[4]}), f.read())
    elif cmd == ["admin", "policy", "attach"]:
        user = argv[argv.index("--user") + 1]
        code, out = call(args[3], "PUT", "/minio/admin/v3/attach-policy?" + q({"accessKey": user, "policy": args[4]}))
        if code == 409:
            print("mc: <ERROR> Unable to attach policy: The specified policy change is already in effect.", file=sys.stderr)
    else:
        print(f"mc (stand-in): unsupported: {' '.join(argv)}", file=sys.stderr)
        return 2
    return 0 if code == 200 else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["mc"]:
        sys.exit(mc(sys.argv[2:]))
    serve(sys.argv[1:])
