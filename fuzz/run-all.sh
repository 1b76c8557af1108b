#!/usr/bin/env bash
# Long runs: every fuzz target (or the ones named) for N minutes each, JOBS at a time
# (default 2; the machine is shared), then a table of inputs executed and coverage
# (libFuzzer's `cov:` edges and `ft:` features) per target.
#
#   fuzz/run-all.sh N [TARGET...]
#
# Builds with `cargo +nightly fuzz build -O` into CARGO_TARGET_DIR (default target/fuzz at the
# repository root). Each target starts from its committed seeds (fuzz/corpus/<target>) and
# crash regressions (fuzz/regressions/<target>), grows a working corpus under the target dir
# (never in the repository), and writes a crashing input to <target dir>/artifacts/<target>/.
# Logs: <target dir>/logs/<target>.log. Exit status 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${1:?usage: fuzz/run-all.sh MINUTES [TARGET...]}"
shift
JOBS="${JOBS:-2}"
TD="${CARGO_TARGET_DIR:-$PWD/target/fuzz}"
mkdir -p "$TD"
TD="$(cd "$TD" && pwd)"
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else mapfile -t TARGETS < <(cargo +nightly fuzz list --fuzz-dir fuzz); fi

cargo +nightly fuzz build -O --fuzz-dir fuzz --target-dir "$TD" >&2
BIN="$TD/x86_64-unknown-linux-gnu/release"

run_one() {
  local t="$1" work="$TD/corpus/$1" art="$TD/artifacts/$1/" log="$TD/logs/$1.log"
  mkdir -p "$work" "$art" "$TD/logs"
  local seeds=(fuzz/corpus/"$t")
  [ -d fuzz/regressions/"$t" ] && seeds+=(fuzz/regressions/"$t")
  if "$BIN/$t" "$work" "${seeds[@]}" -max_total_time=$((MINUTES * 60)) -timeout=30 \
      -rss_limit_mb=2048 -artifact_prefix="$art" -print_final_stats=1 >"$log" 2>&1; then
    echo ok >"$log.result"
  else
    echo "CRASH $(grep -o 'Test unit written to .*' "$log" | tail -n 1 | sed 's/Test unit written to //')" >"$log.result"
  fi
}

running=0
for t in "${TARGETS[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n || true; running=$((running - 1)); fi
done
wait

failed=0
printf '%-16s %12s %8s %8s %8s  %s\n' target executed cov ft corpus result
for t in "${TARGETS[@]}"; do
  log="$TD/logs/$t.log"
  execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
  last="$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)"
  cov="$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")"
  ft="$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")"
  corp="$(find "$TD/corpus/$t" -type f | wc -l)"
  result="$(cat "$log.result")"
  [ "$result" = ok ] || failed=1
  printf '%-16s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$result"
done
exit "$failed"
