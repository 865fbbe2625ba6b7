#!/usr/bin/env bash
# run-armv6.sh: run a cross-built ARM Linux program on an emulated ARM1176
# (the Raspberry Pi Zero / Pi 1 CPU) with QEMU user mode, forwarding all
# arguments. The exit status is the program's (128+N if killed by signal N:
# 132 = SIGILL, an instruction the Pi Zero does not have; see README.md).
#
#   qemu/run-armv6.sh build/armv6-armel/tools/agmodel-run -p "Once upon a time"
#
# Environment:
#   QEMU_ARM           the emulator (default: qemu-arm, else qemu-arm-static)
#   AGM_QEMU_CPU       the CPU model (default arm1176; never relax it to hide
#                      a SIGILL: the Pi has no other CPU)
#   AGM_ARMV6_SYSROOT  for dynamically linked programs: the ARMv6 sysroot
#                      whose loader and libraries to use (qemu-arm -L)
#   AGM_QEMU_ARGS      extra qemu-arm options, e.g. "-d in_asm -D log" or
#                      "-plugin ./libinsn.so -d plugin -D counts.log"
set -euo pipefail

if [ $# -lt 1 ]; then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
prog=$1; shift

qemu=${QEMU_ARM:-}
if [ -z "$qemu" ]; then
  qemu=$(command -v qemu-arm || command -v qemu-arm-static || true)
fi
if [ -z "$qemu" ]; then
  echo "run-armv6.sh: qemu-arm not found (install qemu-user, or run tools/setup.sh)" >&2
  exit 127
fi
if [ ! -f "$prog" ]; then
  echo "run-armv6.sh: $prog: no such file" >&2
  exit 127
fi

args=(-cpu "${AGM_QEMU_CPU:-arm1176}")
if [ -n "${AGM_ARMV6_SYSROOT:-}" ]; then
  args+=(-L "$AGM_ARMV6_SYSROOT")
elif command -v file >/dev/null 2>&1 && file -L "$prog" | grep -q 'dynamically linked'; then
  echo "run-armv6.sh: warning: $prog is dynamically linked; without AGM_ARMV6_SYSROOT it loads" \
       "the host's ARMv7 armhf libraries (if any), which SIGILL on arm1176" >&2
fi
# shellcheck disable=SC2206  # AGM_QEMU_ARGS is a word list by design
[ -n "${AGM_QEMU_ARGS:-}" ] && args+=(${AGM_QEMU_ARGS})

exec "$qemu" "${args[@]}" "$prog" "$@"
