#!/usr/bin/env bash
# build.sh: build the ARM1176 cycle-estimating QEMU TCG plugin
# (qemu/plugin/agm_cycles.c) and print its path on stdout.
#
#   qemu/plugin/build.sh            # -> build/qemu-plugin/libagm_cycles.so
#   qemu-arm -cpu arm1176 -plugin build/qemu-plugin/libagm_cycles.so,out=c.txt ./prog
#
# Debian ships no qemu-plugin.h; it comes with the qemu source package. So,
# the first time only: add a `deb-src` entry for bookworm if apt has none,
# `apt-get update`, `apt-get source qemu` into build/qemu-src (about 24 MB,
# needs dpkg-dev; downloaded only, not unpacked in full: we take the one
# header; libglib2.0-dev is installed only if that header includes glib.h,
# which bookworm's 7.2 one does not), then compile. Later runs only recompile when agm_cycles.c or the
# header changed: about a second, no network.
#
# Messages go to stderr; stdout carries only the plugin's path.
# Environment:
#   AGM_PLUGIN_BUILD   output directory (default <repo>/build/qemu-plugin)
#   AGM_QEMU_SRC       cache directory of the source (default <repo>/build/qemu-src)
#   AGM_QEMU_PLUGIN_H  use this qemu-plugin.h instead of fetching the source
#   CC                 compiler (default gcc)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out_dir=${AGM_PLUGIN_BUILD:-$root/build/qemu-plugin}
src_dir=${AGM_QEMU_SRC:-$root/build/qemu-src}
cc=${CC:-gcc}
plugin=$out_dir/libagm_cycles.so

log() { echo "build.sh: $*" >&2; }

as_root=()
need_root() {
  if [ "$(id -u)" -eq 0 ]; then
    as_root=(env DEBIAN_FRONTEND=noninteractive)
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
  else
    log "need root or sudo to $1"
    exit 1
  fi
}

have_pkg() {
  dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'
}

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do have_pkg "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root "install ${missing[*]}"
  if [ $apt_updated -eq 0 ]; then
    "${as_root[@]}" apt-get update >&2
    apt_updated=1
  fi
  log "installing ${missing[*]}"
  "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2
}

# apt knows source packages once some deb-src entry (one-line or deb822) exists.
have_deb_src() {
  grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

find_header() {
  if [ -n "${AGM_QEMU_PLUGIN_H:-}" ]; then
    echo "$AGM_QEMU_PLUGIN_H"
    return
  fi
  # the unpacked tree (include/qemu/qemu-plugin.h in bookworm's 7.2 source)
  [ -d "$src_dir" ] || return 0
  find "$src_dir" -maxdepth 4 -path '*/include/qemu/qemu-plugin.h' 2>/dev/null | sort | head -n 1
}

fetch_header() {
  apt_install dpkg-dev
  if ! have_deb_src; then
    need_root "add a deb-src entry"
    log "adding /etc/apt/sources.list.d/agm-deb-src.sources (deb-src for bookworm)"
    printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' \
      'Suites: bookworm bookworm-updates' 'Components: main' \
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
      "${as_root[@]}" tee /etc/apt/sources.list.d/agm-deb-src.sources >/dev/null
    "${as_root[@]}" apt-get update >&2
    apt_updated=1
  elif [ $apt_updated -eq 0 ] && ! apt-cache showsrc qemu >/dev/null 2>&1; then
    need_root "apt-get update"
    "${as_root[@]}" apt-get update >&2
    apt_updated=1
  fi
  mkdir -p "$src_dir"
  log "fetching the qemu source package into $src_dir"
  # --download-only: the .orig tarball is ~120 MB unpacked; we extract the
  # plugin header alone rather than unpacking and patching the whole tree.
  (cd "$src_dir" && apt-get source --download-only qemu >&2)
  local orig
  orig=$(find "$src_dir" -maxdepth 1 -name 'qemu_*.orig.tar.*' | sort | tail -n 1)
  if [ -z "$orig" ]; then
    log "apt-get source qemu gave no .orig tarball in $src_dir"
    exit 1
  fi
  local ver
  ver=$(basename "$orig" | sed -E 's/^qemu_(.*)\.orig\.tar\..*$/\1/')
  mkdir -p "$src_dir/qemu-$ver"
  tar -xf "$orig" -C "$src_dir/qemu-$ver" --strip-components=1 --wildcards \
    '*/include/qemu/qemu-plugin.h'
}

header=$(find_header)
if [ -z "$header" ]; then
  fetch_header
  header=$(find_header)
fi
if [ -z "$header" ] || [ ! -f "$header" ]; then
  log "qemu-plugin.h not found under $src_dir"
  exit 1
fi

# bookworm's 7.2 header needs only the C library; later ones include glib.h
glib_cflags=()
if grep -q '#include <glib.h>' "$header"; then
  if ! pkg-config --exists glib-2.0 2>/dev/null; then
    apt_install libglib2.0-dev pkg-config
  fi
  # shellcheck disable=SC2207  # pkg-config prints a word list
  glib_cflags=($(pkg-config --cflags glib-2.0))
fi

srcs=("$here/agm_cycles.c" "$here/agm_memory.c")
fresh=1
for f in "${srcs[@]}" "$here/agm_memory.h" "$header" "$0"; do
  [ -f "$plugin" ] && [ "$plugin" -nt "$f" ] || fresh=0
done
if [ "$fresh" = 1 ]; then
  echo "$plugin"
  exit 0
fi

mkdir -p "$out_dir"
"$cc" -std=gnu11 -O2 -Wall -Wextra -shared -fPIC \
  -I"$(dirname "$header")" "${glib_cflags[@]}" \
  -o "$plugin.tmp" "${srcs[@]}"
mv "$plugin.tmp" "$plugin"
log "built $plugin"
echo "$plugin"
