"""A loopback Codex release for the wheel check in .ci/dist.

    fake-codex-release.py DIR VERSION TARGET

Writes DIR/download/rust-v<VERSION>/codex-package-<TARGET>.tar.gz, a codex-package (the layout
of tests/it/fixture.rs) whose bin/codex answers `--version` like the real one, and
DIR/project/codex-runtime.toml pinning that archive by sha256, so an install from DIR/project
makes no API request. Then serves DIR on 127.0.0.1, on a free port it writes to DIR/port once
listening, until it is killed or ten minutes have passed.
"""

import functools
import hashlib
import http.server
import io
import json
import os
import sys
import tarfile
import threading

LIFETIME_SECONDS = 600


def package(version: str, target: str) -> bytes:
    meta = {
        "layoutVersion": 1,
        "version": version,
        "target": target,
        "variant": "codex",
        "entrypoint": "bin/codex",
        "resourcesDir": "codex-resources",
        "pathDir": "codex-path",
    }
    codex = (
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then echo "codex-cli {version}"; exit 0; fi\n'
        'echo "fake codex $*"\n'
    )
    files = [
        ("codex-package.json", json.dumps(meta).encode(), 0o644),
        ("bin/codex", codex.encode(), 0o755),
        ("bin/codex-code-mode-host", b"#!/bin/sh\nexit 0\n", 0o755),
        ("codex-path/rg", b"#!/bin/sh\necho rg\n", 0o755),
        ("codex-resources/bwrap", b"\x7f" * 4096, 0o755),
    ]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for d in ("bin", "codex-path", "codex-resources"):
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
            tar.addfile(info)
        for name, data, mode in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def main(root: str, version: str, target: str) -> None:
    asset = f"codex-package-{target}.tar.gz"
    archive = package(version, target)
    release = os.path.join(root, "download", f"rust-v{version}")
    project = os.path.join(root, "project")
    os.makedirs(release, exist_ok=True)
    os.makedirs(project, exist_ok=True)
    with open(os.path.join(release, asset), "wb") as f:
        f.write(archive)
    with open(os.path.join(project, "codex-runtime.toml"), "w", encoding="utf-8") as f:
        f.write(
            f'[runtime]\nversion = "{version}"\n\n[targets.{target}]\nasset = "{asset}"\n'
            f"size = {len(archive)}\nsha256 = \"{hashlib.sha256(archive).hexdigest()}\"\n"
        )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 (the stdlib's signature)
            pass

    handler = functools.partial(Quiet, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Timer(LIFETIME_SECONDS, server.shutdown).start()
    port_file = os.path.join(root, "port")
    with open(port_file + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])
