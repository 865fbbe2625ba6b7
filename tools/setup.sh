#!/usr/bin/env bash
# setup.sh: install what agmodel needs to build and test on Debian 12
# (bookworm): host compiler, CMake, the two ARM cross compilers (armel for
# static programs run under QEMU, armhf for the Raspberry Pi OS ABI), their
# binutils (objdump/readelf for tools/armv6-purity-check.sh), QEMU user mode,
# the bare-metal arm-none-eabi GCC with newlib and the C++ headers (not the
# ~1.5 GB compiled libstdc++: the firmware does without) and qemu-system-arm
# for the Raspberry Pi Zero image (qemu/raspi0; ~940 MB installed in all),
# sentencepiece (spm_encode, the tokenizer oracle), doctest and Google
# Benchmark, python3-jsonschema, and for agmodel-serve's tests curl,
# chromium (the web page, headless) and Node.js with npm (the official
# openai and ollama clients, installed into the build tree by the tests).
#
# Idempotent and quick: it asks dpkg what is missing and runs apt-get only
# when something is. Needs root, or sudo. Set AGM_SETUP_EXTRA="pkg ..." to add
# packages, AGM_SETUP_DRY_RUN=1 to only print what would be installed.
set -euo pipefail

packages=(
  build-essential cmake file binutils
  g++-arm-linux-gnueabi binutils-arm-linux-gnueabi
  g++-arm-linux-gnueabihf binutils-arm-linux-gnueabihf
  qemu-user
  gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-dev
  qemu-system-arm
  sentencepiece doctest-dev libbenchmark-dev
  dpkg-dev python3 python3-jsonschema
  curl chromium
)
# agmodel-serve's client tests: node and npm (Debian's, unless a Node.js that
# brings its own npm is installed already: the two packages would conflict).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
# shellcheck disable=SC2206  # a word list by design
[ -n "${AGM_SETUP_EXTRA:-}" ] && packages+=(${AGM_SETUP_EXTRA})

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup.sh: dpkg-query not found: this script supports Debian 12 (and derivatives) only" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  case "$status" in
    ii*) ;;
    *) missing+=("$p") ;;
  esac
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup.sh: all ${#packages[@]} packages present"
  exit 0
fi
echo "setup.sh: missing: ${missing[*]}"
if [ -n "${AGM_SETUP_DRY_RUN:-}" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup.sh: installed: ${missing[*]}"
