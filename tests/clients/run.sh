#!/usr/bin/env bash
# Installs the pinned npm clients (package-lock.json: Mistral's and OpenAI's SDKs, puppeteer-core)
# into BUILD_DIR/clients, then runs one test script there with Debian's Node.
#   tests/clients/run.sh BUILD_DIR SHARED_DATA TEST.mjs [args...]
# The scripts are copied next to node_modules: an ES module resolves its imports from its own folder.
set -euo pipefail
build=$(realpath "$1")
data=$(realpath "$2")
test=$3
shift 3
src=$(realpath "$(dirname "$0")")
dir="$build/clients"
mkdir -p "$dir"
(
  flock 9  # the tests of this folder run in parallel under ctest
  if ! cmp -s "$src/package-lock.json" "$dir/package-lock.json" || [[ ! -d "$dir/node_modules" ]]; then
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  cp "$src"/*.mjs "$dir/"
) 9>"$dir/.install.lock"
cd "$dir"
VRT_BINARY_DIR="$build/bin" VRT_SHARED_DATA="$data" VRT_SOURCE_DIR="$(realpath "$src/../..")" \
  exec node "$dir/$test" "$@"
