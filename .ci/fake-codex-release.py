"""A loopback Codex release for the wheel check in .ci/dist.

    fake-codex-release.py DIR VERSION TARGET

Writes DIR/download/rust-v<VERSION>/codex-package-<TARGET>.tar.gz, a codex-package (the layout
of tests/it/fixture.rs) whose bin/codex answers `--version` like the real one, and
DIR/project/codex-runtime.toml pinning that archive by sha256, so an install from DIR/project
makes no API request; and the same package as an `openai-codex-cli-bin` wheel on a static
simple index, DIR/simple/openai-codex-cli-bin/ (for a Linux TARGET). Then serves DIR on 127.0.0.1, on a free port it writes to DIR/port once
listening, until it is killed or ten minutes have passed.
"""

import functools
import hashlib
import http.server
import io
import json
import os
import sys
import base64
import tarfile
import threading
import zipfile

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


def wheel(archive: bytes, version: str, target: str) -> tuple[str, bytes]:
    """The package as the wheel the Python index serves: under codex_cli_bin/, a RECORD."""
    arch = "aarch64" if target.startswith("aarch64") else "x86_64"
    name = f"openai_codex_cli_bin-{version}-py3-none-musllinux_1_1_{arch}.whl"
    dist_info = f"openai_codex_cli_bin-{version}.dist-info"
    members = [("codex_cli_bin/__init__.py", b"", 0o644)]
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                data = tar.extractfile(m).read()
                members.append((f"codex_cli_bin/{m.name}", data, m.mode))
    members.append(
        (
            f"{dist_info}/METADATA",
            f"Metadata-Version: 2.1\nName: openai-codex-cli-bin\nVersion: {version}\n".encode(),
            0o644,
        )
    )
    members.append(
        (
            f"{dist_info}/WHEEL",
            f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: py3-none-musllinux_1_1_{arch}\n".encode(),
            0o644,
        )
    )
    record = ""
    for path, data, _ in members:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(data)}\n"
    record += f"{dist_info}/RECORD,,\n"
    members.append((f"{dist_info}/RECORD", record.encode(), 0o644))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data, mode in members:
            info = zipfile.ZipInfo(path, date_time=(2023, 11, 14, 22, 13, 20))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return name, out.getvalue()


def main(root: str, version: str, target: str) -> None:
    asset = f"codex-package-{target}.tar.gz"
    archive = package(version, target)
    release = os.path.join(root, "download", f"rust-v{version}")
    project = os.path.join(root, "project")
    os.makedirs(release, exist_ok=True)
    os.makedirs(project, exist_ok=True)
    with open(os.path.join(release, asset), "wb") as f:
        f.write(archive)
    if "-linux-" in target:
        whl, whl_bytes = wheel(archive, version, target)
        simple = os.path.join(root, "simple", "openai-codex-cli-bin")
        os.makedirs(simple, exist_ok=True)
        with open(os.path.join(simple, whl), "wb") as f:
            f.write(whl_bytes)
        with open(os.path.join(simple, "index.html"), "w", encoding="utf-8") as f:
            f.write(
                "<!DOCTYPE html><html><body>\n"
                f'<a href="{whl}#sha256={hashlib.sha256(whl_bytes).hexdigest()}">{whl}</a>\n'
                "</body></html>\n"
            )
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
