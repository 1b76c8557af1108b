#!/usr/bin/env python3
"""A loopback npm registry for benchmarks: serves the packuments of the npm tarballs in DIR
(`npm pack` output) and the tarballs themselves, so npm and codex-bootstrap fetch the same
bytes from the same place. Platform packages of @openai/codex not in DIR are listed with the
integrity a real lock recorded (LOCK, a package-lock.json), for npm to resolve and skip.

    npm_registry.py DIR LOCK     # prints its port, serves until killed
"""
import base64
import hashlib
import http.server
import json
import os
import sys
import tarfile
import urllib.parse

DIR, LOCK = sys.argv[1], sys.argv[2]
packuments = {}  # name -> {"versions": {...}}
tarballs = {}  # url path -> file


def add(name, manifest):
    p = packuments.setdefault(name, {"name": name, "versions": {}, "dist-tags": {}})
    p["versions"][manifest["version"]] = manifest
    if "-" not in manifest["version"]:
        p["dist-tags"]["latest"] = manifest["version"]


for f in sorted(os.listdir(DIR)):
    if not f.endswith(".tgz"):
        continue
    path = os.path.join(DIR, f)
    with tarfile.open(path) as t:
        manifest = json.load(t.extractfile("package/package.json"))
    data = open(path, "rb").read()
    name, version = manifest["name"], manifest["version"]
    url = f"/{name}/-/{name.split('/')[-1]}-{version}.tgz"
    tarballs[url] = path
    manifest["dist"] = {
        "tarball": url,  # made absolute per request
        "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
        "shasum": hashlib.sha1(data).hexdigest(),
    }
    add(name, manifest)

lock = json.load(open(LOCK))["packages"]
codex = packuments.get("@openai/codex", {"versions": {}})
for key, entry in lock.items():
    v = entry.get("version", "")
    if entry.get("name") == "@openai/codex" and v not in codex["versions"]:
        add("@openai/codex", {
            "name": "@openai/codex", "version": v, "os": entry.get("os"), "cpu": entry.get("cpu"),
            "dist": {"tarball": f"/@openai/codex/-/codex-{v}.tgz", "integrity": entry["integrity"]},
        })


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, kind):
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = urllib.parse.unquote(self.path.split("?")[0])
        if path in tarballs:
            return self.send(200, open(tarballs[path], "rb").read(), "application/octet-stream")
        p = packuments.get(path.lstrip("/"))
        if p is None:
            return self.send(404, b'{"error":"not found"}', "application/json")
        base = f"http://{self.headers.get('host')}"
        doc = json.loads(json.dumps(p))
        for m in doc["versions"].values():
            m["dist"]["tarball"] = base + m["dist"]["tarball"]
        self.send(200, json.dumps(doc).encode(), "application/json")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
