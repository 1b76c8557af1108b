#!/usr/bin/env bash
# Benchmarks: codex-bootstrap against the shell baseline and the physical limit, with the real
# Codex runtime served from loopback. Prints a table of medians and ratios.
#
#   bench/run.sh            # needs: cargo, python3 with pip, curl, zstd, hyperfine (apt), uv
#   bench/python.sh         # only install --python against uv (BENCH_REAL_INDEX=1: the real index)
#   bench/proxy.sh          # only the `codex` entry point's overhead (a fixture runtime)
#   bench/node.sh           # only install --node against npm install (needs node and npm)
#
# Everything it downloads comes through pip (the official runtime wheel); everything it serves
# stays on 127.0.0.1. Results vary with the machine and its load: compare ratios, not seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VERSION="${CODEX_RUNTIME_VERSION:-0.163.0}"
TARGET=x86_64-unknown-linux-musl
[ "$(uname -m)" = aarch64 ] && TARGET=aarch64-unknown-linux-musl
WORK="$ROOT/target/bench"
RUNS="${BENCH_RUNS:-10}"
mkdir -p "$WORK/results"

need() { command -v "$1" >/dev/null || { echo "bench: needs $1 ($2)" >&2; exit 1; }; }
need curl "apt-get install curl"
need zstd "apt-get install zstd"
need hyperfine "apt-get install hyperfine"
need python3 "a Python 3 with pip"

echo "== building codex-bootstrap (release)"
cargo build --release --locked --quiet
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/codex-bootstrap"

echo "== preparing the real package from the official wheel"
WHEELS="$WORK/wheels"
mkdir -p "$WHEELS"
ls "$WHEELS"/openai_codex_cli_bin-"$VERSION"-*.whl >/dev/null 2>&1 ||
  python3 -m pip download --quiet --no-deps --only-binary=:all: "openai-codex-cli-bin==$VERSION" -d "$WHEELS"
WHEEL=$(ls "$WHEELS"/openai_codex_cli_bin-"$VERSION"-*.whl | head -1)
MIRROR="$WORK/mirror"
REL="$MIRROR/rust-v$VERSION"
GZ="codex-package-$TARGET.tar.gz"
ZST="codex-package-$TARGET.tar.zst"
if [ ! -f "$REL/$ZST" ]; then
  rm -rf "$WORK/pkg" && mkdir -p "$WORK/pkg" "$REL"
  python3 -m zipfile -e "$WHEEL" "$WORK/pkg"
  chmod +x "$WORK/pkg"/codex_cli_bin/bin/* "$WORK/pkg"/codex_cli_bin/codex-path/* "$WORK/pkg"/codex_cli_bin/codex-resources/*
  (cd "$WORK/pkg/codex_cli_bin" && tar -cf - codex-package.json bin codex-path codex-resources | gzip -6 > "$REL/$GZ")
  # Release-like compression; slow once, then cached.
  (cd "$WORK/pkg/codex_cli_bin" && tar -cf - codex-package.json bin codex-path codex-resources | zstd -19 -T0 -q -o "$REL/$ZST")
fi
ls -l "$REL"

pin() { # dir asset
  mkdir -p "$1"
  local sum size
  sum=$(sha256sum "$REL/$2" | cut -d' ' -f1)
  size=$(stat -c %s "$REL/$2")
  printf '[runtime]\nversion = "%s"\n\n[targets.%s]\nasset = "%s"\nsize = %s\nsha256 = "%s"\n' \
    "$VERSION" "$TARGET" "$2" "$size" "$sum" > "$1/codex-runtime.toml"
}
pin "$WORK/proj-zst" "$ZST"
pin "$WORK/proj-gz" "$GZ"

# The same runtime from the other channels: the musllinux wheel (pip) and the npm tarball (npm
# pack), served by file name from the mirror and pinned in a manifest as `wheel` / `npm` entries.
WHL_DIR="$WORK/whl"
mkdir -p "$WHL_DIR"
ls "$WHL_DIR"/*musllinux_1_1_x86_64.whl >/dev/null 2>&1 ||
  python3 -m pip download --quiet --no-deps --only-binary=:all: --platform musllinux_1_1_x86_64 \
    "openai-codex-cli-bin==$VERSION" -d "$WHL_DIR"
WHL=$(basename "$(ls "$WHL_DIR"/*musllinux_1_1_x86_64.whl | head -1)")
cp -n "$WHL_DIR/$WHL" "$REL/$WHL"
NPM_TGZ="codex-$VERSION-linux-x64.tgz"
if [ ! -f "$REL/$NPM_TGZ" ]; then
  (cd "$WORK" && npm pack --silent "@openai/codex@$VERSION-linux-x64" >/dev/null && mv "openai-codex-$VERSION-linux-x64.tgz" "$REL/$NPM_TGZ")
fi
mkdir -p "$WORK/proj-whl" "$WORK/proj-npm"
printf '[runtime]\nversion = "%s"\n\n[targets.%s.wheel]\nfile = "%s"\nsha256 = "%s"\n' \
  "$VERSION" "$TARGET" "$WHL" "$(sha256sum "$REL/$WHL" | cut -d' ' -f1)" > "$WORK/proj-whl/codex-runtime.toml"
printf '[runtime]\nversion = "%s"\n\n[targets.%s.npm]\nfile = "%s"\nintegrity = "sha512-%s"\n' \
  "$VERSION" "$TARGET" "$NPM_TGZ" "$(openssl dgst -sha512 -binary "$REL/$NPM_TGZ" | base64 -w0)" > "$WORK/proj-npm/codex-runtime.toml"

echo "== serving $MIRROR on loopback"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$MIRROR" "$PORT" >/dev/null 2>&1 &
SERVER_PID=$!
MODEL_PID=
cleanup() {
  kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$MODEL_PID" ] && kill "$MODEL_PID" 2>/dev/null || true
}
trap cleanup EXIT
URL="http://127.0.0.1:$PORT"
for _ in $(seq 50); do curl -sf "$URL/" >/dev/null && break; sleep 0.1; done

OUT="$WORK/out"
CACHE="$WORK/cache"
hf() { # name command [prepare]
  local name=$1 cmd=$2 prep=${3:-true}
  hyperfine --shell bash --style none --runs "$RUNS" --prepare "$prep" --export-json "$WORK/results/$name.json" "$cmd" >/dev/null
  echo "   $name done"
}
# Peak resident memory of codex-bootstrap itself (not of the `codex --version` it runs to prove
# the install, which /usr/bin/time would fold in): the kernel's high-water mark, polled.
peak_rss_kb() {
  "$@" >/dev/null 2>&1 &
  local pid=$! hwm=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
    sleep 0.005
  done
  wait "$pid" || true
  echo "$hwm"
}
echo "== measuring ($RUNS runs each)"
FRESH_OUT="rm -rf $OUT && mkdir -p $OUT && sync"
hf shell_gz "curl -s $URL/rust-v$VERSION/$GZ | tee >(sha256sum >/dev/null) | tar -xzf - -C $OUT" "$FRESH_OUT"
hf inflate_gz "gzip -dc < $REL/$GZ > /dev/null"
hf inflate_zst "zstd -dc < $REL/$ZST > /dev/null"
hf floor_gz "curl -s $URL/rust-v$VERSION/$GZ | gzip -dc | tar -xf - -C $OUT" "$FRESH_OUT"
hf floor_zst "curl -s $URL/rust-v$VERSION/$ZST | zstd -dc | tar -xf - -C $OUT" "$FRESH_OUT"
hf install_zst "cd $WORK/proj-zst && $BIN install -q --mirror $URL --cache-dir $CACHE" "rm -rf $CACHE && sync"
hf install_gz "cd $WORK/proj-gz && $BIN install -q --mirror $URL --cache-dir $CACHE" "rm -rf $CACHE && sync"
hf floor_whl "curl -s -o $OUT/f.whl $URL/rust-v$VERSION/$WHL && sha256sum $OUT/f.whl >/dev/null && unzip -q $OUT/f.whl -d $OUT" "$FRESH_OUT"
hf floor_npm "curl -s $URL/rust-v$VERSION/$NPM_TGZ | tar -xzf - -C $OUT" "$FRESH_OUT"
hf install_whl "cd $WORK/proj-whl && $BIN install -q --mirror $URL --cache-dir $CACHE" "rm -rf $CACHE && sync"
hf install_npm "cd $WORK/proj-npm && $BIN install -q --mirror $URL --cache-dir $CACHE" "rm -rf $CACHE && sync"
(cd "$WORK/proj-zst" && "$BIN" install -q --mirror "$URL" --cache-dir "$CACHE" >/dev/null)
# The warm path without a shell in between: a process start, a stat, a receipt read.
(cd "$WORK/proj-zst" && hyperfine -N --style none --warmup 5 --runs 50 --export-json "$WORK/results/warm.json" \
  "$BIN install -q --mirror $URL --cache-dir $CACHE" >/dev/null)
echo "   warm done"
# The `codex` entry point against the real runtime it execs.
BIN="$BIN" CACHE="$CACHE" PROJECT="$WORK/proj-zst" "$ROOT/bench/proxy.sh" | tee "$WORK/results/proxy.txt"
rm -rf "$CACHE"
RSS=$(cd "$WORK/proj-zst" && peak_rss_kb "$BIN" install -q --mirror "$URL" --cache-dir "$CACHE")
echo "   peak RSS of a cold install: ${RSS} KB"
rm -rf "$CACHE"
RSS_WHL=$(cd "$WORK/proj-whl" && peak_rss_kb "$BIN" install -q --mirror "$URL" --cache-dir "$CACHE")
rm -rf "$CACHE"
RSS_NPM=$(cd "$WORK/proj-npm" && peak_rss_kb "$BIN" install -q --mirror "$URL" --cache-dir "$CACHE")
echo "   peak RSS of a cold install: wheel ${RSS_WHL} KB, npm ${RSS_NPM} KB"

VENV="$WORK/venv"
FRESH_VENV="rm -rf $VENV && python3 -m venv --without-pip $VENV"
if "$BIN" install --help | grep -q -- '--python'; then
  hf python_install "cd $WORK/proj-zst && $BIN install -q --cache-dir $CACHE --python $VENV/bin/python" "$FRESH_VENV"
  # The last cold run left the runtime in the venv: now the already-installed path.
  hf python_install_warm "cd $WORK/proj-zst && $BIN install -q --cache-dir $CACHE --python $VENV/bin/python"
fi
# A warm, offline doctor hashes every installed file (377 MB) against the receipt.
hf doctor_offline "cd $WORK/proj-zst && $BIN doctor --offline --cache-dir $CACHE"

hf pip_wheel "python3 -m pip --python $VENV/bin/python install --quiet --no-deps --no-index $WHEEL" "$FRESH_VENV"
STAGE="$WORK/stage"
cat > "$WORK/old_flow.sh" <<EOF
set -e
rm -rf $STAGE && mkdir -p $STAGE/src
curl -s $URL/rust-v$VERSION/$GZ -o $STAGE/pkg.tar.gz
mkdir -p $STAGE/src/codex_cli_bin && tar -xzf $STAGE/pkg.tar.gz -C $STAGE/src/codex_cli_bin
printf 'from pathlib import Path\ndef bundled_codex_path():\n    return Path(__file__).parent / "bin" / "codex"\n' > $STAGE/src/codex_cli_bin/__init__.py
printf '[build-system]\nrequires=["setuptools"]\nbuild-backend="setuptools.build_meta"\n[project]\nname="openai-codex-cli-bin"\nversion="$VERSION"\n[tool.setuptools.package-data]\ncodex_cli_bin=["**/*"]\n' > $STAGE/src/pyproject.toml
python3 -m pip --python $VENV/bin/python install --quiet --no-deps --no-build-isolation $STAGE/src
EOF
hf old_flow "bash $WORK/old_flow.sh" "rm -rf $VENV && python3 -m venv $VENV && $VENV/bin/python -m pip install --quiet setuptools wheel"

if "$BIN" quickstart --help >/dev/null 2>&1; then
  MODEL_PORT_FILE="$WORK/model.port"
  python3 "$ROOT/bench/model_server.py" > "$MODEL_PORT_FILE" &
  MODEL_PID=$!
  for _ in $(seq 50); do [ -s "$MODEL_PORT_FILE" ] && break; sleep 0.1; done
  MP=$(head -1 "$MODEL_PORT_FILE")
  CH="$WORK/codex-home"
  PROVIDER="model_providers.mock={name=\"mock\",base_url=\"http://127.0.0.1:$MP/v1\",wire_api=\"responses\"}"
  hf quickstart "cd $WORK/proj-zst && CODEX_HOME=$CH $BIN quickstart -q --cache-dir $CACHE -c model_provider=\"mock\" -c '$PROVIDER' 'Say hi'" "rm -rf $CH && mkdir -p $CH"
  # From process start to the first streamed text on stdout, and to the exit after turn/completed.
  (cd "$WORK/proj-zst" && CODEX_HOME="$CH" python3 "$ROOT/bench/first_output.py" "$RUNS" \
    "$BIN" quickstart -q --cache-dir "$CACHE" -c 'model_provider="mock"' -c "$PROVIDER" 'Say hi') \
    > "$WORK/results/quickstart_first.json"
  echo "   quickstart_first done"

  # The same turn through the official Python SDK, on the runtime install --python put in its venv.
  SDK_WHEELS="$WHEELS/sdk"
  ls "$SDK_WHEELS"/openai_codex-"$VERSION"-*.whl >/dev/null 2>&1 ||
    python3 -m pip download --quiet --only-binary=:all: "openai-codex==$VERSION" -d "$SDK_WHEELS"
  SDK_VENV="$WORK/sdk-venv"
  rm -rf "$SDK_VENV" && python3 -m venv --without-pip "$SDK_VENV"
  (cd "$WORK/proj-zst" && "$BIN" install -q --cache-dir "$CACHE" --python "$SDK_VENV/bin/python" >/dev/null)
  python3 -m pip --disable-pip-version-check --python "$SDK_VENV/bin/python" install --quiet \
    --no-index --find-links "$SDK_WHEELS" "openai-codex==$VERSION"
  hf sdk_turn "CODEX_HOME=$CH $SDK_VENV/bin/python $ROOT/bench/sdk_turn.py model_provider=\"mock\" '$PROVIDER'" "rm -rf $CH && mkdir -p $CH"
fi

python3 - "$WORK/results" "$RSS" "${RSS_WHL:-0}" "${RSS_NPM:-0}" <<'EOF'
import json, os, sys
d, rss, rss_whl, rss_npm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def med(name):
    # hyperfine's export, or first_output.py's `NAME:KEY`.
    name, _, key = name.partition(":")
    p = os.path.join(d, name + ".json")
    if not os.path.exists(p):
        return None
    data = json.load(open(p))
    return data[key] if key else data["results"][0]["median"]
rows = [
    ("cold install, .tar.zst", "install_zst", "shell_gz", "shell pipeline (.tar.gz)", 0.4),
    ("cold install, .tar.zst", "install_zst", "floor_zst", "curl \\| zstd -dc \\| tar -x", 1.15),
    ("cold install, .tar.gz", "install_gz", "shell_gz", "shell pipeline (.tar.gz)", 0.6),
    ("cold install, .tar.gz", "install_gz", "floor_gz", "curl \\| gzip -dc \\| tar -x", None),
    ("cold install, wheel (Python index)", "install_whl", "floor_whl", "curl -o f && sha256sum f && unzip -q f", 1.2),
    ("cold install, npm tarball", "install_npm", "floor_npm", "curl \\| tar -xz", 1.15),
    ("warm install", "warm", None, "target 5 ms", None),
    ("install --python (cached runtime)", "python_install", "pip_wheel", "pip install of the official wheel", None),
    ("install --python (cached runtime)", "python_install", "old_flow", "old bootstrap flow", None),
    ("install --python, already installed", "python_install_warm", "pip_wheel", "pip install of the official wheel", None),
    ("doctor --offline (hashes 377 MB)", "doctor_offline", None, "", None),
    ("quickstart, one turn", "quickstart", "sdk_turn", "official Python SDK, same turn", None),
    ("quickstart, start to first text", "quickstart_first:first_output", None, "", None),
    ("quickstart, start to exit", "quickstart_first:exit", None, "", None),
    ("decompress only, .tar.gz", "inflate_gz", None, "", None),
    ("decompress only, .tar.zst", "inflate_zst", None, "", None),
]
print()
print(f"| measurement | median | baseline | baseline median | ratio | target |")
print(f"|---|---|---|---|---|---|")
for label, name, base, base_label, target in rows:
    m = med(name)
    if m is None:
        continue
    b = med(base) if base else None
    ratio = f"{m / b:.2f}x" if b else ""
    print(f"| {label} | {m*1000:.0f} ms | {base_label} | {'' if b is None else f'{b*1000:.0f} ms'} | {ratio} | {'' if target is None else f'<= {target}x'} |")
print(f"| peak RSS, cold install | {rss/1024:.1f} MB | | | | <= 40 MB |")
print(f"| peak RSS, cold install from a wheel / an npm tarball | {rss_whl/1024:.1f} MB / {rss_npm/1024:.1f} MB | | | | <= 40 MB |")
EOF

# install --python against uv (and pip): cold, warm and the disk of a further venv, from a
# loopback index (BENCH_REAL_INDEX=1: the real index, found as pip finds it).
echo
echo "== install --python against uv pip install"
"$ROOT/bench/python.sh"

# install --node against npm placing the same platform package: cold, warm and the disk of a
# further project, from a loopback registry.
if command -v npm >/dev/null; then
  echo
  echo "== install --node against npm install"
  "$ROOT/bench/node.sh"
fi
