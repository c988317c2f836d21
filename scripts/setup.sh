#!/usr/bin/env bash
# Installs the Debian 12 packages voxtral-rt needs (only those missing) and builds it.
#   scripts/setup.sh [BUILD_DIR] [extra cmake args...]
#   scripts/setup.sh --packages-only   the packages alone (e.g. before `pip install ./python`)
# Environment: VRT_SKIP_APT=1 skips the package step.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build pkg-config
          libsndfile1-dev libsoxr-dev libpcre2-dev libpulse-dev nlohmann-json3-dev libcli11-dev
          libgtest-dev libgmock-dev libbenchmark-dev python3-numpy curl libxxhash-dev
          pulseaudio pulseaudio-utils  # these two: a null sound source for the --mic test
          libboost-dev python3-websockets  # the server (Boost.Beast) and its WebSocket test client
          python3-venv python3-pip python3-setuptools python3-wheel python3-pytest  # the Python package
          haproxy  # the fleet test (deploy/)
          nodejs chromium)  # the official SDKs and the web page under test (tests/clients)

if [[ "${VRT_SKIP_APT:-0}" != 1 ]]; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
  # NodeSource's nodejs carries npm; Debian's needs its npm package (which conflicts with the other).
  if ! command -v npm > /dev/null; then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >&2
  fi
fi

[[ "${1:-}" == "--packages-only" ]] && exit 0

BUILD_DIR="${1:-build}"
shift || true
generator=(-G Ninja)
[[ -f "$BUILD_DIR/CMakeCache.txt" ]] && generator=()  # keep whatever generator configured it
cmake -S . -B "$BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" "$@" >&2
cmake --build "$BUILD_DIR" -j"$(nproc)" >&2
