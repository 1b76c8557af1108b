#!/usr/bin/env bash
# `install --python` against `uv pip install` (and pip) of the same runtime wheel, side by
# side: cold (empty store / empty uv cache), warm (a new venv, the runtime cached) and the disk
# a further venv holds of its own. Alternating who goes first, fresh each round, medians.
#
#   bench/python.sh                  # the wheel served from a loopback index (127.0.0.1)
#   BENCH_REAL_INDEX=1 bench/python.sh   # opt-in: the real index, found as pip finds it
#
# Needs python3 with pip and uv (target/ci-venv/bin/uv, as .ci/run installs it, else PATH).
# BENCH_BIN=PATH measures an existing binary instead of this checkout's release build.
# Also run by bench/run.sh. Results vary with the machine: compare ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VERSION="${CODEX_RUNTIME_VERSION:-0.163.0}"
ROUNDS="${BENCH_ROUNDS:-3}"
WORK="$ROOT/target/bench/python"
UV="${UV:-$ROOT/target/ci-venv/bin/uv}"
[ -x "$UV" ] || UV=$(command -v uv) || { echo "bench: needs uv (python3 -m pip install uv)" >&2; exit 1; }
mkdir -p "$WORK"

# BENCH_BIN: measure that binary (another build, to compare two side by side) instead of
# building this checkout's release binary.
if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN"
else
  cargo build --release --locked --quiet
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/codex-bootstrap"
fi

ms() { date +%s%N; }
elapsed() { echo $(( ($(ms) - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT

if [ -n "${BENCH_REAL_INDEX:-}" ]; then
  # As pip finds it: its configuration, else its built-in default.
  INDEX=$(python3 -m pip config get global.index-url 2>/dev/null || true)
  [ -n "$INDEX" ] || INDEX="${PIP_INDEX_URL:-}"
  [ -n "$INDEX" ] || INDEX=$(python3 -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')
  WHERE="the real index"
  ALLOW=()
else
  WHEELS="$ROOT/target/bench/wheels"
  mkdir -p "$WHEELS"
  ls "$WHEELS"/openai_codex_cli_bin-"$VERSION"-*manylinux*.whl >/dev/null 2>&1 ||
    python3 -m pip download --quiet --no-deps --only-binary=:all: "openai-codex-cli-bin==$VERSION" -d "$WHEELS"
  SITE="$WORK/index"
  rm -rf "$SITE" && mkdir -p "$SITE/simple/openai-codex-cli-bin" "$SITE/files"
  {
    echo '<!DOCTYPE html><html><body>'
    for w in "$WHEELS"/openai_codex_cli_bin-"$VERSION"-*.whl; do
      n=$(basename "$w")
      ln -sf "$w" "$SITE/files/$n"
      echo "<a href=\"/files/$n#sha256=$(sha256sum "$w" | cut -d' ' -f1)\">$n</a>"
    done
    echo '</body></html>'
  } > "$SITE/simple/openai-codex-cli-bin/index.html"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$SITE" >/dev/null 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/simple/" >/dev/null 2>&1 && break; sleep 0.1; done
  INDEX="http://127.0.0.1:$PORT/simple"
  WHERE="a loopback index"
  ALLOW=(--allow-http)
fi
echo "== install --python vs uv pip install, openai-codex-cli-bin $VERSION from $WHERE, $ROUNDS rounds"

venv() { rm -rf "$1"; "$UV" venv -q --python python3 "$1"; }
ours() { # store venv
  CODEX_BOOTSTRAP_HOME="$1" "$BIN" install "$VERSION" -q --python "$2/bin/python" \
    --index-url "$INDEX" "${ALLOW[@]}" >/dev/null
}
theirs() { # cache venv
  UV_CACHE_DIR="$1" "$UV" pip install -q --python "$2/bin/python" --index-url "$INDEX" \
    "openai-codex-cli-bin==$VERSION"
}
pip_cold() { # venv
  python3 -m pip --python "$1/bin/python" install -q --disable-pip-version-check --no-cache-dir \
    --index-url "$INDEX" "openai-codex-cli-bin==$VERSION"
}
# The KiB a venv holds of its own: du counts a hard-linked file once per invocation.
own_kib() { # shared... -- venv
  local with without
  with=$(du -sk "$@" | awk '{s+=$1} END {print s}')
  without=$(du -sk "${@:1:$#-1}" | awk '{s+=$1} END {print s}')
  echo $(( with - without ))
}

: > "$WORK/results.txt"
for r in $(seq "$ROUNDS"); do
  S="$WORK/store"; C="$WORK/uv-cache"
  rm -rf "$S" "$C" "$WORK"/v-*
  for v in v-ours-1 v-ours-2 v-uv-1 v-uv-2 v-pip; do venv "$WORK/$v"; done
  sync
  order="ours uv"; [ $((r % 2)) = 0 ] && order="uv ours"
  for who in $order; do
    # Each cold run starts with the disk idle: uv leaves its files to the kernel's writeback,
    # which would otherwise still be running when the other tool fsyncs its own.
    sync
    if [ "$who" = ours ]; then
      t=$(ms); ours "$S" "$WORK/v-ours-1"; echo "ours_cold $(elapsed "$t")" >> "$WORK/results.txt"
    else
      t=$(ms); theirs "$C" "$WORK/v-uv-1"; echo "uv_cold $(elapsed "$t")" >> "$WORK/results.txt"
    fi
  done
  for who in $order; do
    if [ "$who" = ours ]; then
      t=$(ms); ours "$S" "$WORK/v-ours-2"; echo "ours_warm $(elapsed "$t")" >> "$WORK/results.txt"
    else
      t=$(ms); theirs "$C" "$WORK/v-uv-2"; echo "uv_warm $(elapsed "$t")" >> "$WORK/results.txt"
    fi
  done
  t=$(ms); pip_cold "$WORK/v-pip"; echo "pip_cold $(elapsed "$t")" >> "$WORK/results.txt"
  echo "ours_disk $(own_kib "$S" "$WORK/v-ours-1" "$WORK/v-ours-2")" >> "$WORK/results.txt"
  echo "uv_disk $(own_kib "$C" "$WORK/v-uv-1" "$WORK/v-uv-2")" >> "$WORK/results.txt"
  echo "pip_disk $(du -sk "$WORK/v-pip" | cut -f1)" >> "$WORK/results.txt"
  echo "   round $r done ($order)"
done

med() { grep "^$1 " "$WORK/results.txt" | cut -d' ' -f2 | median; }
printf '\n| case | codex-bootstrap | uv | pip | ours / uv |\n|---|---|---|---|---|\n'
for c in cold warm; do
  o=$(med "ours_$c"); u=$(med "uv_$c"); p=$( [ "$c" = cold ] && med pip_cold || echo "")
  printf '| %s | %s ms | %s ms | %s | %sx |\n' "$c" "$o" "$u" "${p:+$p ms}" \
    "$(awk -v o="$o" -v u="$u" 'BEGIN {printf "%.2f", o/u}')"
done
printf '| a further venv holds of its own | %s KiB | %s KiB | %s KiB (a whole venv) | |\n' \
  "$(med ours_disk)" "$(med uv_disk)" "$(med pip_disk)"

# The same files as uv's install, and uv sync has nothing to do.
P="$WORK/v-ours-1/lib"/python3*/site-packages/codex_cli_bin
U="$WORK/v-uv-1/lib"/python3*/site-packages/codex_cli_bin
if diff <(cd $P && find . -type f -exec sha256sum {} + | sort -k2) \
        <(cd $U && find . -type f -exec sha256sum {} + | sort -k2) >/dev/null; then
  echo "codex_cli_bin/: the same files, byte for byte, as uv's install"
else
  echo "codex_cli_bin/: DIFFERS from uv's install" && exit 1
fi
PROJ="$WORK/project"
rm -rf "$PROJ" && mkdir -p "$PROJ"
printf '[project]\nname = "p"\nversion = "0.1.0"\nrequires-python = ">=3.10"\ndependencies = ["openai-codex-cli-bin==%s"]\n\n[tool.uv]\nindex-url = "%s"\n' \
  "$VERSION" "$INDEX" > "$PROJ/pyproject.toml"
(cd "$PROJ" && UV_CACHE_DIR="$WORK/uv-cache-lock" "$UV" lock -q && "$UV" venv -q --python python3 &&
  CODEX_BOOTSTRAP_HOME="$WORK/store" "$BIN" install "$VERSION" -q --index-url "$INDEX" "${ALLOW[@]}" --python >/dev/null &&
  UV_CACHE_DIR="$WORK/uv-cache-lock" "$UV" sync --frozen 2> "$WORK/sync.txt")
if grep -Eq 'Installed|Uninstalled' "$WORK/sync.txt"; then
  echo "uv sync --frozen after install --python REINSTALLED:" && cat "$WORK/sync.txt" && exit 1
fi
echo "uv sync --frozen after install --python: $(tr '\n' ' ' < "$WORK/sync.txt")"
