#!/usr/bin/env bash
# `install --node` against npm placing the same platform package (`@openai/codex-linux-x64`)
# in a project that `npm install --omit=optional @openai/codex-sdk` left without it: cold (an
# empty store / an empty npm cache) and warm (a new project, the package cached), alternating
# who goes first, fresh each round, medians; and the disk a further project holds of its own.
# Both fetch the real tarballs (`npm pack`, once) from the same loopback registry
# (bench/npm_registry.py).
#
#   bench/node.sh        # needs node, npm, python3; linux x64
#
# Also run by bench/run.sh. Results vary with the machine: compare ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VERSION="${CODEX_RUNTIME_VERSION:-0.163.0}"
ROUNDS="${BENCH_ROUNDS:-3}"
WORK="$ROOT/target/bench/node"
PLATFORM=linux-x64
mkdir -p "$WORK/tarballs"

cargo build --release --locked --quiet
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/codex-bootstrap"

ms() { date +%s%N; }
elapsed() { echo $(( ($(ms) - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

# The real tarballs, once: the SDK, @openai/codex, and this platform's package.
T="$WORK/tarballs"
for spec in "@openai/codex-sdk@$VERSION" "@openai/codex@$VERSION" "@openai/codex@$VERSION-$PLATFORM"; do
  f="$(echo "${spec#@}" | tr '/' '-' | sed 's/@/-/').tgz"
  [ -f "$T/$f" ] || (cd "$T" && npm pack --silent "$spec" >/dev/null)
done

PORT_FILE="$WORK/registry.port"
: > "$PORT_FILE"
python3 "$ROOT/bench/npm_registry.py" "$T" "$ROOT/tests/data/node-locks/package-lock.json" > "$PORT_FILE" &
SERVER_PID=$!
cleanup() { kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT
# It hashes the tarballs before it listens.
for _ in $(seq 300); do [ -s "$PORT_FILE" ] && break; sleep 0.1; done
REGISTRY="http://127.0.0.1:$(head -1 "$PORT_FILE")/"
echo "== install --node vs npm install, @openai/codex-$PLATFORM $VERSION from a loopback registry, $ROUNDS rounds"

# A project as `npm install --omit=optional @openai/codex-sdk` leaves it, made afresh (its lock
# names this run's registry port), copied for each project so only the platform package is
# measured.
BASE="$WORK/base"
rm -rf "$BASE" "$WORK/base-cache" && mkdir -p "$BASE"
printf '{"name":"app","private":true,"dependencies":{"@openai/codex-sdk":"%s"}}\n' "$VERSION" > "$BASE/package.json"
(cd "$BASE" && npm install --silent --omit=optional --no-audit --no-fund \
  --registry "$REGISTRY" --cache "$WORK/base-cache")
project() { rm -rf "$1" && cp -a "$BASE" "$1"; }
ours() { # store project
  CODEX_BOOTSTRAP_HOME="$1" CODEX_BOOTSTRAP_NPM_REGISTRY="$REGISTRY" \
    "$BIN" install -q --allow-http --node "$2" >/dev/null
}
theirs() { # cache project
  (cd "$2" && npm install --silent --include=optional --no-audit --no-fund --prefer-offline \
    --registry "$REGISTRY" --cache "$1")
}
placed() { # project
  "$1/node_modules/@openai/codex-$PLATFORM/vendor/x86_64-unknown-linux-musl/bin/codex" --version >/dev/null
}
own_kib() { # shared... -- project
  local with without
  with=$(du -sk "$@" | awk '{s+=$1} END {print s}')
  without=$(du -sk "${@:1:$#-1}" | awk '{s+=$1} END {print s}')
  echo $(( with - without ))
}

: > "$WORK/results.txt"
for r in $(seq "$ROUNDS"); do
  S="$WORK/store"; C="$WORK/npm-cache"
  rm -rf "$S" "$C"
  for p in p-ours-1 p-ours-2 p-npm-1 p-npm-2; do project "$WORK/$p"; done
  sync
  order="ours npm"; [ $((r % 2)) = 0 ] && order="npm ours"
  for who in $order; do
    sync
    if [ "$who" = ours ]; then
      t=$(ms); ours "$S" "$WORK/p-ours-1"; echo "ours_cold $(elapsed "$t")" >> "$WORK/results.txt"
    else
      t=$(ms); theirs "$C" "$WORK/p-npm-1"; echo "npm_cold $(elapsed "$t")" >> "$WORK/results.txt"
    fi
  done
  for who in $order; do
    if [ "$who" = ours ]; then
      t=$(ms); ours "$S" "$WORK/p-ours-2"; echo "ours_warm $(elapsed "$t")" >> "$WORK/results.txt"
    else
      t=$(ms); theirs "$C" "$WORK/p-npm-2"; echo "npm_warm $(elapsed "$t")" >> "$WORK/results.txt"
    fi
  done
  for p in p-ours-1 p-ours-2 p-npm-1 p-npm-2; do placed "$WORK/$p"; done
  echo "ours_disk $(own_kib "$S" "$WORK/p-ours-1" "$WORK/p-ours-2")" >> "$WORK/results.txt"
  echo "npm_disk $(own_kib "$C" "$WORK/p-npm-1" "$WORK/p-npm-2")" >> "$WORK/results.txt"
  echo "   round $r done ($order)"
done

med() { grep "^$1 " "$WORK/results.txt" | cut -d' ' -f2 | median; }
printf '\n| case | codex-bootstrap install --node | npm install | ours / npm |\n|---|---|---|---|\n'
for c in cold warm; do
  o=$(med "ours_$c"); n=$(med "npm_$c")
  printf '| %s | %s ms | %s ms | %sx |\n' "$c" "$o" "$n" \
    "$(awk -v o="$o" -v n="$n" 'BEGIN {printf "%.2f", o/n}')"
done
printf '| a further project holds of its own | %s KiB | %s KiB | |\n' "$(med ours_disk)" "$(med npm_disk)"

# The same files as npm's own install, and npm ls accepts them.
P="$WORK/p-ours-1/node_modules/@openai/codex-$PLATFORM/vendor"
N="$WORK/p-npm-1/node_modules/@openai/codex-$PLATFORM/vendor"
if diff <(cd "$P" && find . -type f -exec sha256sum {} + | sort -k2) \
        <(cd "$N" && find . -type f -exec sha256sum {} + | sort -k2) >/dev/null; then
  echo "vendor/: the same files, byte for byte, as npm's install"
else
  echo "vendor/: DIFFERS from npm's install" && exit 1
fi
(cd "$WORK/p-ours-1" && npm ls --all >/dev/null) && echo "npm ls --all after install --node: ok"
