#!/usr/bin/env bash
# Installs python/ into a fresh venv with system site packages, as README.md says (offline, no
# build isolation), then runs its pytest suite against the tools of the same build.
#   tests/python/run.sh BUILD_DIR [SHARED_DATA] [pytest args...]
# The package reuses BUILD_DIR (VOXTRAL_RT_BUILD_DIR) instead of configuring build-python/.
set -euo pipefail
build=$(realpath "$1")
data=$(realpath "${2:-$(dirname "$0")/../../../shared/data}")
shift $(($# < 2 ? $# : 2))
repo=$(realpath "$(dirname "$0")/../..")
venv="$build/python-venv"

rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv"
VOXTRAL_RT_BUILD_DIR="$build" "$venv/bin/pip" install --quiet --no-build-isolation --no-index "$repo/python"
# Run from the build tree, so `import voxtral_rt` finds the installed package, not python/.
cd "$build"
VRT_BINARY_DIR="$build/bin" VRT_SHARED_DATA="$data" VRT_SOURCE_DIR="$repo" \
  exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$repo/tests/python" "$@"
