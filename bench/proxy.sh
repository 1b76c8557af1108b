#!/usr/bin/env bash
# The `codex` entry point's overhead: `codex --version` through it (pin resolved walking up from
# the project, the warm path, exec) against the runtime's own `bin/codex --version`, the median
# of many calls each. hyperfine -N when it is installed, else a timed loop.
#
#   bench/proxy.sh                                  # a fixture runtime, built and installed here
#   BIN=… CACHE=… PROJECT=… bench/proxy.sh          # from bench/run.sh: the real runtime
#
# The fixture's `bin/codex` is a shell script: both sides run it, so the difference is ours.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
WORK="$ROOT/target/bench/proxy"
RUNS="${BENCH_PROXY_RUNS:-500}"
mkdir -p "$WORK"

if [ -z "${BIN:-}" ]; then
  cargo build --release --locked --quiet
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/codex-bootstrap"
fi
if [ -z "${PROJECT:-}" ]; then
  VERSION=0.1.0  # not the bundled pin, whose `bin/codex` digest the fixture cannot match
  TARGET=x86_64-unknown-linux-musl
  [ "$(uname -m)" = aarch64 ] && TARGET=aarch64-unknown-linux-musl
  PKG="$WORK/pkg"
  rm -rf "$PKG" && mkdir -p "$PKG/bin" "$PKG/codex-path" "$PKG/codex-resources"
  printf '{"layoutVersion":1,"version":"%s","target":"%s","variant":"codex","entrypoint":"bin/codex","resourcesDir":"codex-resources","pathDir":"codex-path"}' \
    "$VERSION" "$TARGET" > "$PKG/codex-package.json"
  printf '#!/bin/sh\necho "codex-cli %s"\n' "$VERSION" > "$PKG/bin/codex"
  printf '#!/bin/sh\nexit 0\n' > "$PKG/bin/codex-code-mode-host"
  printf '#!/bin/sh\necho rg\n' > "$PKG/codex-path/rg"
  printf '#!/bin/sh\nexit 0\n' > "$PKG/codex-resources/bwrap"
  chmod 755 "$PKG"/bin/* "$PKG/codex-path/rg" "$PKG/codex-resources/bwrap"
  ARCHIVE="$WORK/codex-package-$TARGET.tar.gz"
  (cd "$PKG" && tar -czf "$ARCHIVE" codex-package.json bin codex-path codex-resources)
  CACHE="$WORK/store"
  PROJECT="$WORK/project/deep/er"
  rm -rf "$CACHE" "$WORK/project" && mkdir -p "$PROJECT"
  printf '[runtime]\nversion = "%s"\n' "$VERSION" > "$WORK/project/codex-runtime.toml"
  (cd "$PROJECT" && "$BIN" install -q --no-bin --cache-dir "$CACHE" \
    --archive "$ARCHIVE" --trust-archive >/dev/null)
fi

# The entry point as install places it: a hard link named `codex`.
mkdir -p "$WORK/bin"
ln -f "$BIN" "$WORK/bin/codex" 2>/dev/null || cp "$BIN" "$WORK/bin/codex"
cd "$PROJECT"
export CODEX_BOOTSTRAP_HOME="$CACHE" CODEX_BOOTSTRAP_AUTO_INSTALL=0
DIRECT=$("$BIN" which)
PROXY="$WORK/bin/codex"
[ "$("$PROXY" --version)" = "$("$DIRECT" --version)" ] || { echo "bench: the proxy and the runtime disagree" >&2; exit 1; }

if command -v hyperfine >/dev/null; then
  hyperfine -N --style none --warmup 20 --runs "$RUNS" --export-json "$WORK/proxy.json" \
    "$PROXY --version" "$DIRECT --version" >/dev/null
  python3 - "$WORK/proxy.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
proxy, direct = r[0]["median"], r[1]["median"]
print(f"codex --version: through the entry point {proxy*1000:.2f} ms, the runtime directly {direct*1000:.2f} ms, overhead {(proxy-direct)*1000:.2f} ms (median of {len(r[0]['times'])} each; goal < 2 ms)")
# On a loaded machine the longer of two runs is preempted more often: the fastest runs show
# what the entry point itself costs.
pmin, dmin = min(r[0]["times"]), min(r[1]["times"])
print(f"  fastest runs: {pmin*1000:.2f} ms against {dmin*1000:.2f} ms, overhead {(pmin-dmin)*1000:.2f} ms; load average {open('/proc/loadavg').read().split()[0]}")
EOF
else
  python3 - "$RUNS" "$PROXY" "$DIRECT" <<'EOF'
import statistics, subprocess, sys, time
runs, proxy, direct = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def median(exe):
    times = []
    for i in range(runs + 20):
        t = time.perf_counter()
        subprocess.run([exe, "--version"], stdout=subprocess.DEVNULL, check=True)
        if i >= 20:
            times.append(time.perf_counter() - t)
    return statistics.median(times)
# Interleaved halves, so a change of machine load touches both sides alike.
p1, d1, p2, d2 = median(proxy), median(direct), median(proxy), median(direct)
p, d = (p1 + p2) / 2, (d1 + d2) / 2
print(f"codex --version: through the entry point {p*1000:.2f} ms, the runtime directly {d*1000:.2f} ms, overhead {(p-d)*1000:.2f} ms (median of {runs} each, twice; goal < 2 ms; no hyperfine: a Python loop)")
EOF
fi
