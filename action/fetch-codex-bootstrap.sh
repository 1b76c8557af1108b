#!/usr/bin/env bash
# codex-bootstrap for the composite action (action.yml), in seconds: the release archive for this
# runner's platform, checked against the release's SHA256SUMS before it ever runs. Only when the
# release has no archive for it (a fork, an unreleased version, a platform without a prebuilt
# binary) is it built from the action's own source with `cargo install`.
#
#   fetch-codex-bootstrap.sh key   key=<cache key> to $GITHUB_OUTPUT: version, platform and a
#                                  digest of the action's sources, i.e. exactly one binary
#   fetch-codex-bootstrap.sh get   the binary at $RUNNER_TEMP/codex-bootstrap/bin (reused when
#                                  actions/cache restored it), then CODEX_BOOTSTRAP and
#                                  CODEX_BOOTSTRAP_HOME to $GITHUB_ENV
#
# Reads GITHUB_ACTION_PATH, RUNNER_TEMP, RUNNER_OS, RUNNER_ARCH, GITHUB_SERVER_URL, and
# CODEX_BOOTSTRAP_RELEASE_URL (the action's `release-url` input): the URL under which release
# `v<version>` keeps its files. By default, the releases of the repository the action came from.
set -euo pipefail

fail() {
  echo "::error::codex-bootstrap: $1"
  echo "hint: $2"
  exit 1
}

src=${GITHUB_ACTION_PATH:?is not set (the directory of the action)}
root=${RUNNER_TEMP:?is not set (the temporary directory of the runner)}/codex-bootstrap
exe=
if [ "${RUNNER_OS:-}" = Windows ]; then exe=.exe; fi
bin=$root/bin/codex-bootstrap$exe

# The release a checkout of the action belongs to is the version its Cargo.toml declares.
version=$(sed -n 's/^version = "\([^"]*\)".*/\1/p' "$src/Cargo.toml" | head -n 1)
[ -n "$version" ] || fail "no package version in $src/Cargo.toml" \
  "the action's checkout is incomplete: reference a release tag of the action"

# The runner's platform as a release target; empty when no release archive is built for it.
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc ;;
  Windows/ARM64) target=aarch64-pc-windows-msvc ;;
  *) target= ;;
esac
case $target in
  *-windows-*) archive=codex-bootstrap-$target.zip ;;
  ?*) archive=codex-bootstrap-$target.tar.gz ;;
  *) archive= ;;
esac

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

# Where the releases of this action live. `github.action_repository` is empty inside composite
# actions (https://github.com/actions/runner/issues/2525), but the runner keeps a remote action
# at `_actions/<owner>/<repo>/<ref>`. A local action (`uses: ./`) is a checkout of unreleased
# work: it has no release of its own, so it is built.
release_base() {
  if [ -n "${CODEX_BOOTSTRAP_RELEASE_URL:-}" ]; then
    echo "${CODEX_BOOTSTRAP_RELEASE_URL%/}"
    return
  fi
  local path=${src//\\//} owner repo
  case $path in
    */_actions/*/*/*) ;;
    *) return ;;
  esac
  path=${path##*/_actions/}
  owner=${path%%/*}
  path=${path#*/}
  repo=${path%%/*}
  echo "${GITHUB_SERVER_URL:-https://github.com}/$owner/$repo/releases/download"
}

build_from_source() {
  echo "::notice::codex-bootstrap: $1; building codex-bootstrap $version from source (a few minutes)"
  cargo install --locked --quiet --path "$src" --root "$root"
}

fetch() {
  local base url dir status expected actual unpacked
  base=$(release_base)
  if [ -z "$archive" ]; then
    build_from_source "no prebuilt binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}"
    return
  fi
  if [ -z "$base" ]; then
    build_from_source "the action runs from a local checkout"
    return
  fi
  # Plain http only to loopback, as codex-bootstrap itself: a digest fetched over a network
  # anyone can rewrite proves nothing.
  case $base in
    https://* | http://127.* | http://localhost[:/]* | http://\[::1\]*) ;;
    *) fail "release-url \`$base\` is not https" "set the action's release-url input to an https URL" ;;
  esac
  url=$base/v$version
  dir=$(mktemp -d "$RUNNER_TEMP/codex-bootstrap-download.XXXXXX")
  # SHA256SUMS says which archives the release has: when it or our line is missing, there is
  # no archive for us and building is the way; any other failure is an error.
  status=$(curl --silent --show-error --location --retry 3 --connect-timeout 30 \
    --output "$dir/SHA256SUMS" --write-out '%{http_code}' "$url/SHA256SUMS") ||
    fail "could not download $url/SHA256SUMS" \
      "check the runner's network and proxy, or point the release-url input at a mirror"
  case $status in
    200) ;;
    404)
      build_from_source "$url has no release of codex-bootstrap $version (a fork, or an unreleased version)"
      return
      ;;
    *) fail "$url/SHA256SUMS answered HTTP $status" "retry the job; GitHub may be having trouble" ;;
  esac
  expected=$(awk -v name="$archive" '$2 == name || $2 == "*" name { print $1; exit }' "$dir/SHA256SUMS")
  if [ -z "$expected" ]; then
    build_from_source "release v$version has no $archive"
    return
  fi
  curl --silent --show-error --fail --location --retry 3 --connect-timeout 30 \
    --output "$dir/$archive" "$url/$archive" ||
    fail "could not download $url/$archive, which the release's SHA256SUMS lists" \
      "retry the job; if it keeps failing, the release is incomplete"
  actual=$(sha256 "$dir/$archive" | cut -d ' ' -f 1)
  if [ "$actual" != "$expected" ]; then
    rm -rf "$dir"
    fail "$archive does not match the release's SHA256SUMS (expected sha256 $expected, got $actual); nothing was run or installed" \
      "the download was corrupted or tampered with: retry, and report it if it persists"
  fi
  case $archive in
    *.zip) unzip -q "$dir/$archive" -d "$dir" ;;
    *) tar -xzf "$dir/$archive" -C "$dir" ;;
  esac
  unpacked=$dir/codex-bootstrap-$target/codex-bootstrap$exe
  [ -f "$unpacked" ] || fail "$archive has no codex-bootstrap-$target/codex-bootstrap$exe" \
    "the release archive is malformed: report it"
  mkdir -p "$root/bin"
  chmod +x "$unpacked"
  mv -f "$unpacked" "$bin"
  rm -rf "$dir"
  echo "codex-bootstrap $version from $url/$archive (sha256 $actual, as SHA256SUMS says)"
}

case ${1:-} in
  key)
    digest=$(cd "$src" && find Cargo.toml Cargo.lock manifests src -type f | LC_ALL=C sort |
      while IFS= read -r f; do sha256 "$f"; done | sha256 | cut -c 1-16)
    echo "key=codex-bootstrap-$version-${RUNNER_OS:-unknown}-${RUNNER_ARCH:-unknown}-$digest" >>"$GITHUB_OUTPUT"
    ;;
  get)
    if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null || true)" = "codex-bootstrap $version" ]; then
      echo "codex-bootstrap $version from the cache ($bin)"
    else
      fetch
    fi
    got=$("$bin" --version 2>&1) || fail "$bin does not run: $got" "report it, with the runner's OS and architecture"
    [ "$got" = "codex-bootstrap $version" ] ||
      fail "$bin says \`$got\`, not \`codex-bootstrap $version\`" "the release archive is not this version's: report it"
    echo "CODEX_BOOTSTRAP=$bin" >>"$GITHUB_ENV"
    echo "CODEX_BOOTSTRAP_HOME=$RUNNER_TEMP/codex-bootstrap-home" >>"$GITHUB_ENV"
    ;;
  *)
    echo "usage: $0 key|get" >&2
    exit 2
    ;;
esac
